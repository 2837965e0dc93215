// Errors of the Coder client. Messages are written for the person running a scale test:
// what failed, and what to check. They never contain the session token.
import type { ValidationError } from './schemas';

/** coderd answered with a non-success status; carries Coder's `{message, detail, validations}`. */
export class CoderApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    /** Templated route, e.g. /api/v2/workspaces/{workspace}. */
    readonly route: string,
    readonly apiMessage: string,
    readonly detail?: string,
    readonly validations: ValidationError[] = [],
  ) {
    const parts = [`${method} ${route} failed with ${status}: ${apiMessage || '(no message)'}`];
    if (detail) parts.push(`(${detail})`);
    if (validations.length) parts.push(`[${validations.map((v) => `${v.field}: ${v.detail}`).join('; ')}]`);
    super(parts.join(' '));
    this.name = 'CoderApiError';
  }
}

/** The deployment could not be reached at all (refused, DNS, TLS, reset). */
export class DeploymentUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly code: string,
    cause: string,
  ) {
    super(`${unreachableSummary(url, code, cause)} ${unreachableHint(code)}`);
    this.name = 'DeploymentUnreachableError';
  }
}

/** A request got no complete answer within the client's timeout. */
export class RequestTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly route: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} ${route} got no answer within ${timeoutMs} ms; the deployment may be overloaded or the timeout too short.`);
    this.name = 'RequestTimeoutError';
  }
}

/** A build finished in a state other than `succeeded`. */
export class BuildFailedError extends Error {
  constructor(
    readonly buildId: string,
    readonly jobStatus: string,
    readonly jobError: string | undefined,
  ) {
    super(`workspace build ${buildId} ${jobStatus}${jobError ? `: ${jobError}` : ''}`);
    this.name = 'BuildFailedError';
  }
}

const tlsCodes = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_NOT_YET_VALID',
  'EPROTO',
]);

function unreachableSummary(url: string, code: string, cause: string): string {
  return `Cannot reach the Coder deployment at ${url} (${code}: ${cause}).`;
}

function unreachableHint(code: string): string {
  if (tlsCodes.has(code)) {
    return "The TLS certificate was not accepted: add the deployment's CA certificate (caFile), or use insecure only for a test deployment.";
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'The host name does not resolve: check the deployment URL.';
  if (code === 'ECONNREFUSED') return 'Nothing is listening there: check the URL and port, and that coderd is running.';
  return 'Check the URL, that coderd is running and reachable from this machine, and any proxy or firewall in between.';
}

export function isTlsErrorCode(code: string): boolean {
  return tlsCodes.has(code);
}
