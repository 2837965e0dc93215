// coderd versions: the client reads the deployment's from GET /api/v2/buildinfo and says when
// it is outside what the client supports. Behaviour that changed between versions is handled
// by feature detection where the client meets it (a 404 on a newer route falls back to the
// older one); docs/fidelity.md, "Versions", lists each such branch.

/** The oldest coderd the client supports: it needs `organization_ids` when creating users. */
export const OLDEST_SUPPORTED_CODER_VERSION = '2.15.0';
/** The newest coderd line the client's assumptions were checked against. */
export const NEWEST_CHECKED_CODER_VERSION = '2.24.1';

export interface CoderVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Parses coderd's build version (`v2.24.1`, `v2.24.1+abc123`, `v2.25.0-rc.1`); undefined for devel builds. */
export function parseCoderVersion(version: string): CoderVersion | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!match || /devel/.test(version)) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

function compare(a: CoderVersion, b: CoderVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** A warning for a deployment outside the supported versions, or undefined. */
export function versionWarning(version: string): string | undefined {
  const parsed = parseCoderVersion(version);
  if (!parsed) return `coderd reports version "${version}" (a development build?); results may differ from a released version.`;
  if (compare(parsed, parseCoderVersion(OLDEST_SUPPORTED_CODER_VERSION)!) < 0) {
    return `coderd ${version} is older than the oldest version this tool supports (v${OLDEST_SUPPORTED_CODER_VERSION}); user creation and other calls may fail. Upgrade coderd or use an older coder-scaletest.`;
  }
  if (parsed.major > parseCoderVersion(NEWEST_CHECKED_CODER_VERSION)!.major) {
    return `coderd ${version} is a newer major version than this tool was checked against (v${NEWEST_CHECKED_CODER_VERSION}); results may differ.`;
  }
  return undefined;
}
