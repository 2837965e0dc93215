// Line "wildcard": a subdomain echo app needs a wildcard app host that resolves from this
// runner, and app labels short enough for a DNS label on this coderd version.
import { randomBytes } from 'crypto';
import { lookupFor, type DeploymentConnection } from '../../coder/connection';
import type * as S from '../../coder/schemas';
import { atLeastVersion, APP_LABEL_WITHOUT_AGENT_SINCE } from '../../coder/versions';
import type { Plan } from '../plan/plan';
import { appLabelProblem } from '../run/naming';
import type { Lines } from './lines';

export interface WildcardInputs {
  connection: DeploymentConnection;
  plan: Plan;
  version: string;
  /** The deployment's wildcard app host ('' when none). */
  host: string;
  agent?: S.WorkspaceAgent;
  echoApp?: S.WorkspaceApp;
}

export async function checkWildcardHost({ connection, plan, version, host, agent, echoApp }: WildcardInputs, lines: Lines): Promise<void> {
  const appsEnabled = plan.traffic.apps.enabled;
  if (!appsEnabled) lines.add('wildcard', 'skip', 'the apps stage is disabled');
  else if (!echoApp?.subdomain)
    lines.add('wildcard', 'pass', `the echo app is path-based${host ? ` (wildcard host ${host} not needed)` : ''}`);
  else if (!host) {
    lines.add(
      'wildcard',
      'fail',
      `the echo app is a subdomain app, but the deployment has no wildcard app host (GET /api/v2/applications/host is empty)`,
      'set CODER_WILDCARD_ACCESS_URL (e.g. *.apps.coder.example.com) with a matching DNS wildcard, or make the app path-based (subdomain = false)',
    );
  } else {
    const hostname = host.replace(/:\d+$/, '');
    const probe = hostname.replace('*', `scaletest-check-${randomBytes(3).toString('hex')}`);
    const resolved = await new Promise<string | Error>((resolve) =>
      lookupFor(connection)(probe, {}, (error, address) => resolve(error ?? String(address))),
    );
    const withAgent = !atLeastVersion(version, APP_LABEL_WITHOUT_AGENT_SINCE);
    const labelProblem = appLabelProblem(plan.traffic.apps.slug, plan.runIdPrefix, plan.users, {
      agentName: withAgent ? agent?.name : undefined,
      wildcardHost: host,
    });
    if (resolved instanceof Error) {
      lines.add(
        'wildcard',
        'fail',
        `${probe} does not resolve from this runner (${resolved.message})`,
        `add a DNS wildcard for ${hostname} pointing at coderd, reachable from this runner`,
      );
    } else if (labelProblem) {
      lines.add('wildcard', 'fail', `coderd ${version}: ${labelProblem}`, 'shorten runIdPrefix or the app slug');
    } else {
      lines.add('wildcard', 'pass', `${host}: ${probe} resolves to ${resolved}; the longest app label of the plan fits`);
    }
  }
}
