// Line "prometheus": the plan's scrape URLs answer (without them coderd's CPU and the
// reference figures go unmeasured).
import { httpRequest } from '../../coder/httpRequest';
import type { Plan } from '../plan/plan';
import type { Lines } from './lines';

export async function checkPrometheus(plan: Plan, lines: Lines, signal?: AbortSignal): Promise<void> {
  const scrapeUrls = [
    ['deployment.prometheusUrl', plan.deployment.prometheusUrl],
    ['deployment.provisionerPrometheusUrl', plan.deployment.provisionerPrometheusUrl],
    ['deployment.databaseMetricsUrl', plan.deployment.databaseMetricsUrl],
  ].filter((entry): entry is [string, string] => Boolean(entry[1]));
  if (scrapeUrls.length === 0) {
    lines.add(
      'prometheus',
      'warn',
      'no scrape URL in the plan: coderd CPU and the reference figures will be unmeasured',
      'set deployment.prometheusUrl (coderd with CODER_PROMETHEUS_ENABLE=true)',
    );
  } else {
    const problems: string[] = [];
    for (const [field, url] of scrapeUrls) {
      const answer = await httpRequest({ url, method: 'GET', timeoutMs: 10_000, signal }).catch((error: Error) => error);
      if (answer instanceof Error) problems.push(`${field} ${url}: ${answer.message}`);
      else if (answer.status !== 200) problems.push(`${field} ${url}: answered ${answer.status}`);
    }
    if (problems.length) lines.add('prometheus', 'fail', problems.join('; '), 'fix the URL(s) or remove them from the plan');
    else lines.add('prometheus', 'pass', `${scrapeUrls.length} scrape URL(s) answer`);
  }
}
