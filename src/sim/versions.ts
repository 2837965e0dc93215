// The coderd version the simulator impersonates (`--coder-version`) and the behaviours that
// depend on it (docs/fidelity.md, "Versions"). The release each behaviour changed in is in
// src/coder/versions.ts, shared with the client's pre-run checks.
import type { RouteName } from '../coder/routes';
import {
  APP_LABEL_WITHOUT_AGENT_SINCE,
  atLeastVersion,
  parseCoderVersion,
  RATE_LIMIT_PER_USER_SINCE,
  NEWEST_CHECKED_CODER_VERSION,
  type CoderVersion,
} from '../coder/versions';
import type { RateLimitKeying } from './middleware/rateLimit';

/** The version served by default: the newest release the client is checked against. */
export const DEFAULT_CODER_VERSION = NEWEST_CHECKED_CODER_VERSION;

export interface CoderVersionBehaviour {
  version: CoderVersion;
  /** `vX.Y.Z+sim`, as X-Coder-Build-Version and /buildinfo report it. */
  buildVersion: string;
  /** POST /users/{user}/workspaces exists (older coderd only has the organization-member route). */
  userWorkspacesRoute: boolean;
  /** GET /users/{user}/keys/tokens/tokenconfig exists (older coderd: /config/tokenconfig). */
  userTokenConfigRoute: boolean;
  /** API and app rate limits keyed by IP + path (before PR #22049) or by user + path (after). */
  rateLimitKeying: RateLimitKeying;
  /** Subdomain app labels carry the agent name (`{slug}--{agent}--{workspace}--{owner}`, before PR #19750). */
  appLabelWithAgent: boolean;
}

function parse(version: string): CoderVersion {
  const parsed = /^v?\d+\.\d+\.\d+$/.test(version.trim()) ? parseCoderVersion(version) : undefined;
  if (!parsed) throw new Error(`"${version}" is not a coderd version; expected e.g. ${DEFAULT_CODER_VERSION}`);
  return parsed;
}

export function behaviourFor(version = DEFAULT_CODER_VERSION): CoderVersionBehaviour {
  const parsed = parse(version);
  return {
    version: parsed,
    buildVersion: `v${parsed.major}.${parsed.minor}.${parsed.patch}+sim`,
    userWorkspacesRoute: atLeastVersion(parsed, '2.17.0'),
    userTokenConfigRoute: atLeastVersion(parsed, '2.17.0'),
    rateLimitKeying: atLeastVersion(parsed, RATE_LIMIT_PER_USER_SINCE) ? 'user' : 'ip',
    appLabelWithAgent: !atLeastVersion(parsed, APP_LABEL_WITHOUT_AGENT_SINCE),
  };
}

/** False for API routes this version does not have (coderd answers 404 "Route not found."). */
export function routeAvailable(name: RouteName, behaviour: CoderVersionBehaviour): boolean {
  if (name === 'createUserWorkspace') return behaviour.userWorkspacesRoute;
  if (name === 'tokenConfig') return behaviour.userTokenConfigRoute;
  return true;
}
