// coderd versions: the client reads the deployment's from GET /api/v2/buildinfo and says when
// it is outside what the client supports. Behaviour that changed between versions is handled
// by feature detection where the client meets it (a 404 on a newer route falls back to the
// older one); where it cannot be detected before it matters (rate-limit keys, app labels) the
// release that changed it is below, and docs/fidelity.md lists each.

/** The oldest coderd the client supports: it needs `organization_ids` when creating users. */
export const OLDEST_SUPPORTED_CODER_VERSION = '2.15.0';
/** The newest coderd release the client's assumptions were checked against (2.35, July 2026). */
export const NEWEST_CHECKED_CODER_VERSION = '2.35.2';

/**
 * API and app rate limits keyed by user (and the owner's X-Coder-Bypass-Ratelimit honoured)
 * from coder/coder PR #22049 (issue #20857, merged Feb/Mar 2026). Whether 2.31 has it is not
 * certain from the sources, so 2.31 counts as before (the stricter case) and is flagged.
 */
export const RATE_LIMIT_PER_USER_SINCE = '2.32.0';
export const RATE_LIMIT_KEYING_UNCERTAIN = '2.31.0';
/**
 * Subdomain app labels without the agent name from coder/coder PR #19750 (issue #18485,
 * autumn 2025: 2.27 or 2.28). 2.27 counts as before: the longer label is the safe guess.
 */
export const APP_LABEL_WITHOUT_AGENT_SINCE = '2.28.0';

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

/** True when `version` is `since` or newer; a devel build (undefined) counts as the newest. */
export function atLeastVersion(version: CoderVersion | string | undefined, since: string): boolean {
  const parsed = typeof version === 'string' ? parseCoderVersion(version) : version;
  return parsed === undefined || compare(parsed, parseCoderVersion(since)!) >= 0;
}

/** A warning for a deployment outside the supported versions, or undefined. */
export function versionWarning(version: string): string | undefined {
  const parsed = parseCoderVersion(version);
  if (!parsed) return `coderd reports version "${version}" (a development build?); results may differ from a released version.`;
  if (compare(parsed, parseCoderVersion(OLDEST_SUPPORTED_CODER_VERSION)!) < 0) {
    return `coderd ${version} is older than the oldest version this tool supports (v${OLDEST_SUPPORTED_CODER_VERSION}); user creation and other calls may fail. Upgrade coderd or use an older coder-scaletest.`;
  }
  const newest = parseCoderVersion(NEWEST_CHECKED_CODER_VERSION)!;
  if (parsed.major > newest.major) {
    return `coderd ${version} is a newer major version than this tool was checked against (v${NEWEST_CHECKED_CODER_VERSION}); results may differ.`;
  }
  if (parsed.major === newest.major && parsed.minor > newest.minor) {
    return `coderd ${version} is newer than the newest release this tool was checked against (v${NEWEST_CHECKED_CODER_VERSION}); it is expected to work, but behaviour that changed since is not modelled.`;
  }
  return undefined;
}
