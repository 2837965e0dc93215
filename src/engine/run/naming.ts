// Names of everything a run creates. Each carries the run id, so cleanup finds exactly what
// one run made (and nothing broader), even after the runner was killed.
import { randomBytes, randomInt } from 'crypto';

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** A run id: the plan's prefix plus 6 random characters; fits Coder's 32-character name limit. */
export const RUN_ID_PATTERN = /^[a-z][a-z0-9]{3,11}$/;

export function randomToken(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return text;
}

export function newRunId(prefix: string): string {
  return `${prefix}${randomToken(6)}`;
}

export function checkRunId(runId: string): void {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new Error(
      `"${runId}" is not a run id: expected 4-12 lowercase letters or digits starting with a letter (e.g. st4k9x2a), as printed when the run started`,
    );
  }
}

/** Reference naming: `scaletest-<8 random>-<runId>` / `<8 random>-<runId>@scaletest.local`. */
export function userIdentity(runId: string): { username: string; email: string; password: string } {
  const random = randomToken(8);
  return {
    username: `scaletest-${random}-${runId}`,
    email: `${random}-${runId}@scaletest.local`,
    // Never logged or reported: used once to log in as the user.
    password: `${randomBytes(18).toString('base64url')}aA1!`,
  };
}

export function workspaceName(runId: string, index: number): string {
  return `scaletest-${runId}-${index}`;
}

export function isRunUser(username: string, runId: string): boolean {
  return runIdOfUser(username) === runId;
}

/** The run id carried by a scale-test username, if it is one. */
export function runIdOfUser(username: string): string | undefined {
  return /^scaletest-[a-z0-9]{8}-([a-z][a-z0-9]{3,11})$/.exec(username)?.[1];
}

export function isRunWorkspace(name: string, runId: string): boolean {
  return new RegExp(`^scaletest-${runId}-\\d+$`).test(name);
}

/** DNS's limit on one label of a host name. */
const DNS_LABEL_MAX = 63;

/**
 * The longest subdomain label coderd would give the apps of this run's workspaces:
 * `{slug}--{workspace}--{owner}` (coderd/database/db2sdk AppSubdomain: newer releases leave the
 * agent name out for named apps) or, with `agentName` (releases before coder/coder PR #19750),
 * `{slug}--{agent}--{workspace}--{owner}`; a wildcard like `*--apps.example.com` adds its
 * suffix (`--apps`) to the same DNS label. Undefined when it fits; otherwise the problem.
 */
export function appLabelProblem(
  slug: string,
  runIdPrefix: string,
  users: number,
  options: { agentName?: string; wildcardHost?: string } = {},
): string | undefined {
  const runId = `${runIdPrefix}${'x'.repeat(6)}`;
  const workspace = workspaceName(runId, Math.max(0, users - 1));
  const owner = userIdentity(runId).username;
  const name = options.agentName ? `${slug}--${options.agentName}--${workspace}--${owner}` : `${slug}--${workspace}--${owner}`;
  const suffix = (options.wildcardHost?.split('.')[0] ?? '*').replace(/^\*/, '');
  const label = name + suffix;
  if (label.length <= DNS_LABEL_MAX) return undefined;
  const form = options.agentName
    ? `"${slug}--${options.agentName}--<workspace>--<user>${suffix}"`
    : `"${slug}--<workspace>--<user>${suffix}"`;
  return (
    `a subdomain app's host label would be up to ${label.length} characters (${form}), over DNS's ${DNS_LABEL_MAX}; ` +
    `shorten runIdPrefix (now "${runIdPrefix}") or traffic.apps.slug (now "${slug}")` +
    (options.agentName ? `, or the template's agent name ("${options.agentName}")` : '')
  );
}
