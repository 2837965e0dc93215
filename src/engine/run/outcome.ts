// What a run tells its faces, in structured form: events with a code where a face may want to
// add its own advice, the exit reason, the access problem. The engine says what happened; each
// face (src/cli/outcomeText.ts, src/vscode/…) says what to do about it in its own words.
import { CoderClient, type RequestInfo } from '../../coder/client';
import type { DeploymentConnection } from '../../coder/connection';
import { CoderApiError, DeploymentUnreachableError, RequestTimeoutError } from '../../coder/errors';
import type { ExitReason } from '../judge/outcome';
import type { RunSnapshot, StageName, Verdict } from '../../protocol/snapshot';
import type { CleanupOutcome } from '../cleanup/cleanup';

/**
 * Events a face may word its own way:
 * - `resources-kept`: the cleanup strategy kept what the run created;
 * - `resources-left`: cleanup could not delete everything.
 * Both mean: the run's leftovers can be removed later by its run id.
 */
export type RunEventCode = 'resources-kept' | 'resources-left';

export interface RunEvent {
  level: 'debug' | 'info' | 'warn' | 'error';
  /** Epoch ms. */
  time: number;
  stage?: StageName;
  message: string;
  code?: RunEventCode;
}

export { EXIT_CODES, type ExitReason } from '../judge/outcome';

export type AccessProblemKind = 'unreachable' | 'no-token' | 'unauthenticated' | 'not-owner' | 'not-coder';

export interface RunResult {
  verdict: Verdict;
  exit: ExitReason;
  /** EXIT_CODES[exit]. */
  exitCode: number;
  /** Set when exit is 'access'. */
  access?: AccessProblemKind;
  reportDir: string;
  snapshot: RunSnapshot;
  cleanup: CleanupOutcome;
}

/** Why a run could not even start: the message says what happened, `kind` lets a face advise. */
export class DeploymentAccessError extends Error {
  constructor(
    readonly kind: AccessProblemKind,
    message: string,
  ) {
    super(message);
    this.name = 'DeploymentAccessError';
  }
}

export function classifyAccessError(error: unknown, url: string): DeploymentAccessError {
  if (error instanceof DeploymentAccessError) return error;
  if (error instanceof DeploymentUnreachableError || error instanceof RequestTimeoutError) {
    return new DeploymentAccessError('unreachable', error.message);
  }
  if (error instanceof CoderApiError && error.status === 401) {
    return new DeploymentAccessError('unauthenticated', `The deployment at ${url} rejected the session token (401 ${error.apiMessage}).`);
  }
  if (error instanceof CoderApiError && error.status === 404) {
    return new DeploymentAccessError('not-coder', `${url} does not look like a Coder deployment (GET /api/v2/users/me answered 404).`);
  }
  const message = (error as Error).message ?? String(error);
  if (/owner role/.test(message)) {
    return new DeploymentAccessError(
      'not-owner',
      `${message.replace(/\.$/, '')}. Scale tests create users and workspaces, which needs the Owner role.`,
    );
  }
  return new DeploymentAccessError('unreachable', `Cannot use the deployment at ${url}: ${message}`);
}

/**
 * Access first: wrong URL, wrong token and non-owner each get their own DeploymentAccessError.
 * Resolves with the owner's organizations; `warn` hears about a version outside the supported range.
 */
export async function verifyOwnerAccess(
  connection: DeploymentConnection,
  onRequest: (info: RequestInfo) => void,
  warn: (message: string) => void,
): Promise<string[]> {
  try {
    if (!connection.token) throw new DeploymentAccessError('no-token', "No session token: a run needs an owner's session token.");
    // Without the rate-limit bypass header, which coderd refuses (428) for non-owners.
    const probe = new CoderClient(connection, { onRequest });
    try {
      const owner = await probe.requireOwner();
      // The version decides nothing here (the client detects features); outside the supported range it says so.
      const { warning } = await probe.versionCheck();
      if (warning) warn(warning);
      return owner.organization_ids ?? [];
    } finally {
      probe.close();
    }
  } catch (error) {
    throw classifyAccessError(error, connection.url);
  }
}
