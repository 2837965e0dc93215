// The coderd version the simulator impersonates (`--coder-version`) and the behaviours that
// depend on it — only those the client branches on (docs/fidelity.md, "Versions").
import type { RouteName } from '../coder/routes';

/** The version served by default: the newest line the client is tested against. */
export const DEFAULT_CODER_VERSION = '2.24.1';

export interface CoderVersionBehaviour {
  /** `vX.Y.Z+sim`, as X-Coder-Build-Version and /buildinfo report it. */
  buildVersion: string;
  /** POST /users/{user}/workspaces exists (older coderd only has the organization-member route). */
  userWorkspacesRoute: boolean;
  /** GET /users/{user}/keys/tokens/tokenconfig exists (older coderd: /config/tokenconfig). */
  userTokenConfigRoute: boolean;
}

function parse(version: string): [number, number, number] {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version.trim());
  if (!match) throw new Error(`"${version}" is not a coderd version; expected e.g. 2.24.1`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function atLeast(version: [number, number, number], major: number, minor: number): boolean {
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

export function behaviourFor(version = DEFAULT_CODER_VERSION): CoderVersionBehaviour {
  const parsed = parse(version);
  return {
    buildVersion: `v${parsed.join('.')}+sim`,
    userWorkspacesRoute: atLeast(parsed, 2, 17),
    userTokenConfigRoute: atLeast(parsed, 2, 17),
  };
}

/** False for API routes this version does not have (coderd answers 404 "Route not found."). */
export function routeAvailable(name: RouteName, behaviour: CoderVersionBehaviour): boolean {
  if (name === 'createUserWorkspace') return behaviour.userWorkspacesRoute;
  if (name === 'tokenConfig') return behaviour.userTokenConfigRoute;
  return true;
}
