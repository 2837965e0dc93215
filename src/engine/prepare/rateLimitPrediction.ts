// What a run's requests meet at coderd's rate limits, before the run (the pre-run check and the
// README's advice use it). Pure: the deployment's version and the plan in, buckets out.
// Facts (docs/fidelity.md, "Rate limits"): httprate sliding windows of one minute; a bucket is
// (IP | user) × URL path; before coder/coder PR #22049 every bucket is keyed by the client IP, so
// all of a runner's requests to a path share it and the owner's bypass header is ignored; after
// it, buckets are per user and the owner's bypass is honoured. Login: 60 per minute per IP.
import { atLeastVersion, parseCoderVersion, RATE_LIMIT_KEYING_UNCERTAIN, RATE_LIMIT_PER_USER_SINCE } from '../../coder/versions';
import type { Plan } from '../plan/plan';

/** coderd's defaults: `--api-rate-limit` 512, the login limit 60 (hard-coded). */
export const CODER_API_RATE_LIMIT = 512;
export const CODER_LOGIN_RATE_LIMIT = 60;

export type RateLimitKeying = 'ip' | 'user';

export interface SharedBucket {
  /** The URL path all these requests count against (coderd's bucket, with the runner's IP). */
  path: string;
  /** The part of the run that sends them. */
  stage: 'prepare' | 'ssh' | 'apps' | 'dashboard' | 'cleanup';
  requests: number;
  limitPerMinute: number;
  /**
   * The least time these requests need: the sliding window lets one burst of `limit` through,
   * then `limit` per minute — (requests − limit) / limit minutes, 0 when they fit.
   */
  minMinutes: number;
  /** With an unlucky window phase it takes up to about requests / limit minutes. */
  maxMinutes: number;
  what: string;
}

export interface RateLimitPrediction {
  /** How the deployment keys its buckets; `uncertain` for releases the sources do not pin. */
  keying: RateLimitKeying | 'uncertain';
  apiLimitPerMinute: number;
  /** Buckets the run shares from one runner IP, worst first (empty when the limiter is off). */
  buckets: SharedBucket[];
  /** The whole run's rate-limit delay at least (the longest bucket), minutes. */
  minMinutes: number;
  /** Plain words for the check and the log, one finding per line. */
  findings: string[];
  /** What Coder's own scale tests do about it. */
  advice: string;
}

export const RATE_LIMIT_ADVICE =
  "Coder's own scale-test environment runs coderd with CODER_DANGEROUS_DISABLE_RATE_LIMITS=true " +
  '(coder/coder scaletest/terraform); on a deployment under test set that, or CODER_API_RATE_LIMIT=-1 ' +
  '(the login limit of 60 per minute per IP then stays).';

export interface PredictionInput {
  /** buildinfo's version, e.g. v2.29.0 (a devel build counts as the newest). */
  version: string;
  plan: Pick<Plan, 'users' | 'traffic'>;
  /** The deployment's CODER_API_RATE_LIMIT when known (<= 0: off); coderd's default otherwise. */
  apiRateLimit?: number;
  /** The echo app is served on a subdomain (apps open on `/` of the wildcard host). */
  subdomainApps?: boolean;
  /** The SSH stage goes through `coder ssh --stdio` (each connection makes the CLI's API calls). */
  sshThroughCli?: boolean;
}

function bucket(stage: SharedBucket['stage'], path: string, requests: number, limit: number, what: string): SharedBucket {
  return {
    stage,
    path,
    requests,
    limitPerMinute: limit,
    minMinutes: Math.max(0, (requests - limit) / limit),
    maxMinutes: requests > limit ? requests / limit : 0,
    what,
  };
}

export function keyingOf(version: string): RateLimitKeying | 'uncertain' {
  if (atLeastVersion(version, RATE_LIMIT_PER_USER_SINCE)) return 'user';
  const parsed = parseCoderVersion(version);
  return parsed && atLeastVersion(parsed, RATE_LIMIT_KEYING_UNCERTAIN) ? 'uncertain' : 'ip';
}

/** Which buckets the run's requests land in, and the least time they need there. */
export function predictRateLimits(input: PredictionInput): RateLimitPrediction {
  const limit = input.apiRateLimit ?? CODER_API_RATE_LIMIT;
  const keying = keyingOf(input.version);
  const users = input.plan.users;
  if (limit <= 0) {
    return { keying, apiLimitPerMinute: limit, buckets: [], minMinutes: 0, findings: ['the API rate limiter is off'], advice: '' };
  }
  const buckets: SharedBucket[] = [];
  // Keyed by IP (or maybe so): the runner's requests to one path share a bucket. Keyed by user:
  // per-user paths never collide, and the owner's own calls pass with the bypass header.
  if (keying !== 'user') {
    buckets.push(bucket('prepare', '/api/v2/users', users, limit, 'user creation (POST /users, the owner bypass is ignored)'));
    const { apps, ssh, dashboard } = input.plan.traffic as Record<string, { enabled?: boolean } | undefined>;
    if (apps?.enabled && input.subdomainApps) {
      buckets.push(bucket('apps', '/ (every subdomain app)', users, limit, 'subdomain app connections (limited before authentication)'));
    }
    if (ssh?.enabled && input.sshThroughCli) {
      // cli/ssh.go: every CLI reads its build's template version (one path per template; a
      // refusal ends the CLI, the runner starts it again) and dials /api/v2/tailnet (tailnet's
      // controller retries). /appearance is shared too, but its errors are ignored.
      buckets.push(
        bucket('ssh', '/api/v2/templateversions/{id}', users, limit, '`coder ssh` start-ups (the template version; also /api/v2/tailnet)'),
      );
    }
    if (dashboard?.enabled) {
      const browsers = Math.min(users, (dashboard as { maxBrowsers?: number }).maxBrowsers ?? users);
      buckets.push(bucket('dashboard', '/api/v2/users/me', browsers, limit, 'dashboard page loads (each browser from this runner)'));
    }
  }
  buckets.sort((a, b) => b.minMinutes - a.minMinutes || b.requests - a.requests);
  const held = buckets.filter((b) => b.requests > b.limitPerMinute);
  const findings = held.map(
    (b) =>
      `${b.requests} ${b.what} share ${b.path} at ${b.limitPerMinute}/min from this runner: at least ` +
      `${b.minMinutes.toFixed(1)} min (up to ${b.maxMinutes.toFixed(1)} min)`,
  );
  if (keying === 'uncertain') findings.push(`${input.version}: whether this release keys rate limits by user is not known; assumed by IP`);
  return {
    keying,
    apiLimitPerMinute: limit,
    buckets,
    minMinutes: held.reduce((most, b) => Math.max(most, b.minMinutes), 0),
    findings,
    advice: held.length > 0 ? RATE_LIMIT_ADVICE : '',
  };
}
