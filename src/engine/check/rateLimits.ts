// Line "rate-limits": would coderd's rate limits hold back what the run sends (by its version's
// keying, see prepare/rateLimitPrediction.ts).
import type { Plan } from '../plan/plan';
import { predictRateLimits } from '../prepare/rateLimitPrediction';
import type { Lines } from './lines';

export function checkRateLimits(
  { version, plan, subdomainApps, sshThroughCli }: { version: string; plan: Plan; subdomainApps: boolean; sshThroughCli: boolean },
  lines: Lines,
): void {
  const prediction = predictRateLimits({ version, plan, subdomainApps, sshThroughCli });
  const held = prediction.buckets.filter((bucket) => bucket.requests > bucket.limitPerMinute);
  if (held.length === 0) {
    lines.add(
      'rate-limits',
      'pass',
      prediction.keying === 'user'
        ? `coderd ${version} keys rate limits by user; the run's requests fit`
        : prediction.findings.join('; ') || `nothing the run sends shares a bucket beyond ${prediction.apiLimitPerMinute}/min`,
    );
  } else {
    lines.add('rate-limits', 'warn', prediction.findings.join('; '), prediction.advice);
  }
}
