// The pre-run check (`coder-scaletest check PLAN`, *Check Deployment*, and the first step of
// `run`): before anything is created, with the plan's own settings, one line per thing that
// would otherwise fail a run after 2000 users and workspaces exist — each pass / warn / fail
// with what was found and what to do. Read-only: it creates nothing on the deployment.
// What each line reads, and its pass / warn / fail rules: README, "Against your deployment".
import { randomBytes } from 'crypto';
import * as os from 'os';
import { CoderClient } from '../../coder/client';
import { coderBinaryName } from '../../coder/cliCache';
import { lookupFor, type DeploymentConnection } from '../../coder/connection';
import { CoderApiError } from '../../coder/errors';
import { httpRequest } from '../../coder/httpRequest';
import type * as S from '../../coder/schemas';
import { atLeastVersion, APP_LABEL_WITHOUT_AGENT_SINCE, versionWarning } from '../../coder/versions';
import { listLeftoverRuns } from '../cleanup/runResources';
import type { Plan } from '../plan/plan';
import { runnerCapacity } from '../plan/runnerCapacity';
import { predictRateLimits } from '../prepare/rateLimitPrediction';
import { planNeedsWorkspaces, resolveOrganizationAndTemplate, resolveWorkspaceInputs } from '../prepare/prepare';
import { appLabelProblem } from '../run/naming';
import { classifyAccessError } from '../run/outcome';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export const CHECK_LINE_IDS = [
  'reachable',
  'version',
  'owner',
  'template',
  'agent',
  'echo-app',
  'parameters',
  'external-auth',
  'rate-limits',
  'wildcard',
  'provisioners',
  'queue',
  'licence',
  'coder-cli',
  'prometheus',
  'runner',
  'leftovers',
] as const;
export type CheckLineId = (typeof CHECK_LINE_IDS)[number];

export interface CheckLine {
  id: CheckLineId;
  title: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do about it (empty on a pass). */
  advice?: string;
}

export interface CheckReport {
  planName: string;
  deploymentUrl: string;
  checkedAt: string;
  lines: CheckLine[];
  /** No line failed (warnings allowed). */
  passed: boolean;
  /** The plan's template is missing or lacks what the methodology needs: `template push` fixes it. */
  offerTemplatePush: boolean;
}

export interface CheckOptions {
  plan: Plan;
  connection: DeploymentConnection;
  /** The configured coder binary (`--coder-binary`), if any. */
  coderBinaryPath?: string;
  /** This runner's size (default: this machine's). */
  machine?: { cores: number; memoryBytes: number };
  signal?: AbortSignal;
}

const TITLES: Record<CheckLineId, string> = {
  reachable: 'Deployment reachable',
  version: 'coderd version',
  owner: "Owner's token",
  template: 'Template',
  agent: 'Agent in the template',
  'echo-app': 'Echo app',
  parameters: 'Template parameters',
  'external-auth': 'External auth',
  'rate-limits': 'Rate limits',
  wildcard: 'Wildcard app host',
  provisioners: 'Provisioner daemons',
  queue: 'Provisioner job queue',
  licence: 'Licence seats',
  'coder-cli': 'coder CLI for SSH',
  prometheus: 'Prometheus scrape URLs',
  runner: 'This runner',
  leftovers: 'Leftovers of earlier runs',
};

/** Lines that need what an earlier failure denied are skipped with the reason. */
class Lines {
  readonly all: CheckLine[] = [];
  add(id: CheckLineId, status: CheckStatus, detail: string, advice?: string): void {
    this.all.push({ id, title: TITLES[id], status, detail, ...(advice ? { advice } : {}) });
  }
  skipRest(reason: string): void {
    for (const id of CHECK_LINE_IDS) if (!this.all.some((line) => line.id === id)) this.add(id, 'skip', reason);
  }
  failed(id: CheckLineId): boolean {
    return this.all.some((line) => line.id === id && line.status === 'fail');
  }
}

const message = (error: unknown) =>
  error instanceof CoderApiError ? `${error.apiMessage}${error.detail ? ` (${error.detail})` : ''}` : (error as Error).message;

export async function checkDeployment(options: CheckOptions): Promise<CheckReport> {
  const { plan, connection } = options;
  const lines = new Lines();
  const report = (): CheckReport => ({
    planName: plan.name,
    deploymentUrl: connection.url,
    checkedAt: new Date().toISOString(),
    lines: CHECK_LINE_IDS.map((id) => lines.all.find((line) => line.id === id)!),
    passed: !lines.all.some((line) => line.status === 'fail'),
    offerTemplatePush: lines.failed('template') || lines.failed('agent') || lines.failed('echo-app'),
  });
  // Without the rate-limit bypass header: coderd refuses it (428) for non-owners, and the check
  // reads like any client would.
  const client = new CoderClient(connection, { timeoutMs: 15_000 });
  try {
    // ---- reachable, version, owner ----
    let version: string;
    try {
      version = (await client.buildInfo()).version;
      lines.add('reachable', 'pass', `${connection.url} answers (coderd ${version})`);
    } catch (error) {
      const problem = classifyAccessError(error, connection.url);
      lines.add('reachable', 'fail', problem.message, 'check the URL, the network path and TLS (--ca-file)');
      lines.skipRest('the deployment could not be reached');
      return report();
    }
    const warning = versionWarning(version);
    if (!warning) lines.add('version', 'pass', `coderd ${version} is inside the supported range`);
    else if (/older than/.test(warning)) lines.add('version', 'fail', warning, 'upgrade coderd, or use an older coder-scaletest');
    else lines.add('version', 'warn', warning, 'results may differ from a checked release; report what differs');

    let me: S.User;
    try {
      me = await client.requireOwner();
      lines.add('owner', 'pass', `${me.username} is an owner`);
    } catch (error) {
      const problem = classifyAccessError(error, connection.url);
      lines.add(
        'owner',
        'fail',
        problem.message,
        problem.kind === 'not-owner'
          ? "use an owner's session token: a scale test creates users, which only owners may"
          : 'create a new session token (coder tokens create) and pass it with CODER_SESSION_TOKEN',
      );
      lines.skipRest("needs an owner's session token");
      return report();
    }

    // ---- template, agent, echo app, parameters, external auth ----
    let template: S.Template | undefined;
    let organizationId: string | undefined;
    let agent: S.WorkspaceAgent | undefined;
    let echoApp: S.WorkspaceApp | undefined;
    const appsEnabled = plan.traffic.apps.enabled;
    if (!planNeedsWorkspaces(plan)) {
      for (const id of ['template', 'agent', 'echo-app', 'parameters', 'external-auth'] as const)
        lines.add(id, 'skip', 'the plan creates no workspaces');
    } else {
      try {
        const resolved = await resolveOrganizationAndTemplate(client, plan, me.organization_ids ?? []);
        template = resolved.template;
        organizationId = resolved.organization.id;
        lines.add('template', 'pass', `${template.name} in ${resolved.organization.name} (active version ${template.active_version_id})`);
      } catch (error) {
        lines.add(
          'template',
          'fail',
          message(error),
          'push the scale-test template: coder-scaletest template push --kind kubernetes (or docker), then set deployment.template',
        );
      }
      if (template) {
        const resources = await client.templateVersionResources(template.active_version_id).catch(() => undefined);
        const agents = (resources ?? []).filter((r) => (r.workspace_transition ?? 'start') === 'start').flatMap((r) => r.agents ?? []);
        agent = agents[0];
        if (!resources) lines.add('agent', 'warn', "could not read the active version's resources", 'check the template in the dashboard');
        else if (!agent)
          lines.add('agent', 'fail', `template ${template.name} declares no coder_agent`, 'push the scale-test template (template push)');
        else
          lines.add(
            'agent',
            agents.length > 1 ? 'warn' : 'pass',
            `agent ${agent.name}${agents.length > 1 ? ` (and ${agents.length - 1} more: prepare uses the first)` : ''}`,
          );
        const slug = plan.traffic.apps.slug;
        if (!appsEnabled) lines.add('echo-app', 'skip', 'the apps stage is disabled');
        else if (!agent) lines.add('echo-app', 'skip', 'no agent');
        else {
          echoApp = (agent.apps ?? []).find((app) => app.slug === slug);
          const slugs = (agent.apps ?? []).map((app) => app.slug).join(', ') || 'none';
          if (echoApp) lines.add('echo-app', 'pass', `${slug} (${echoApp.subdomain ? 'subdomain' : 'path-based'} app)`);
          else
            lines.add(
              'echo-app',
              'fail',
              `agent ${agent.name} has no app "${slug}" (apps: ${slugs})`,
              'push the scale-test template (template push), or set traffic.apps.slug to the echo app of your template',
            );
        }
        try {
          const inputs = await resolveWorkspaceInputs(client, plan, template);
          const given = inputs.rich_parameter_values.length;
          lines.add(
            'parameters',
            'pass',
            given
              ? `${given} parameter value(s) from the plan${inputs.template_version_preset_id ? ' and its preset' : ''}`
              : 'no parameter needs a value',
          );
        } catch (error) {
          lines.add(
            'parameters',
            'fail',
            message(error),
            'give every required parameter a value in deployment.parameters (or choose a deployment.preset)',
          );
        }
        try {
          const providers = await client.templateVersionExternalAuth(template.active_version_id);
          const required = providers.filter((provider) => !provider.optional);
          if (required.length === 0) lines.add('external-auth', 'pass', providers.length ? 'only optional providers' : 'none required');
          else
            lines.add(
              'external-auth',
              'fail',
              `every workspace needs its user linked to ${required.map((provider) => provider.id).join(', ')}, which scale-test users never are`,
              'remove the coder_external_auth data source from the template, or mark it optional',
            );
        } catch (error) {
          lines.add('external-auth', 'fail', `coderd: ${message(error)}`, "fix or remove the template's coder_external_auth data source");
        }
      } else for (const id of ['agent', 'echo-app', 'parameters', 'external-auth'] as const) lines.add(id, 'skip', 'no template');
    }

    // ---- rate limits, wildcard ----
    const host = (await client.appHost().catch(() => ({ host: '' }))).host;
    const subdomainApps = Boolean(appsEnabled && echoApp?.subdomain);
    const sshThroughCli = plan.traffic.ssh.enabled && plan.traffic.ssh.transport === 'coder-cli';
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

    // ---- provisioners, queue ----
    const prepareConcurrency = plan.concurrency.prepare;
    if (!organizationId) {
      lines.add('provisioners', 'skip', 'no organization/template to build in');
      lines.add('queue', 'skip', 'no organization/template to build in');
    } else {
      try {
        const daemons = await client.provisionerDaemons(organizationId);
        const online = daemons.filter((daemon) => daemon.status !== 'offline' && daemon.provisioners.includes('terraform'));
        const tags = `tags ${JSON.stringify({ scope: 'organization', owner: '' })}`;
        if (online.length === 0) {
          lines.add(
            'provisioners',
            'fail',
            `no online provisioner daemon (${daemons.length} listed${daemons.length ? ', all offline' : ''}): no workspace would build`,
            `start provisioner daemons with ${tags} (coderd's built-in ones: CODER_PROVISIONER_DAEMONS; external: coder provisioner start)`,
          );
        } else if (online.length < prepareConcurrency) {
          lines.add(
            'provisioners',
            'warn',
            `${online.length} online daemon(s) for a prepare concurrency of ${prepareConcurrency}: builds will queue (Coder's reference runs 50 for 2000 users)`,
            `run at least ${prepareConcurrency} provisioner daemons, or lower concurrency.prepare`,
          );
        } else lines.add('provisioners', 'pass', `${online.length} online daemon(s) for a prepare concurrency of ${prepareConcurrency}`);
      } catch (error) {
        lines.add(
          'provisioners',
          'warn',
          `cannot list provisioner daemons: ${message(error)}`,
          'coderd runs 3 built-in daemons by default; older releases list daemons only with an Enterprise licence',
        );
      }
      try {
        const pending = await client.provisionerJobs(organizationId, { status: 'pending', limit: 100 });
        if (pending.length === 0) lines.add('queue', 'pass', 'no job is waiting for a provisioner');
        else
          lines.add(
            'queue',
            'warn',
            `${pending.length}${pending.length === 100 ? '+' : ''} job(s) pending now: the run's builds queue behind them`,
            'wait for the queue to drain, or add provisioners',
          );
      } catch (error) {
        lines.add('queue', 'skip', `cannot list provisioner jobs: ${message(error)}`);
      }
    }

    // ---- licence ----
    try {
      const entitlements = await client.entitlements();
      const limit = entitlements?.features.user_limit;
      if (!entitlements) lines.add('licence', 'pass', 'no licence (this coderd serves no entitlements): no user limit');
      else if (!limit?.enabled || limit.limit === undefined || limit.limit === null)
        lines.add('licence', 'pass', 'the licence sets no user limit');
      else {
        const actual = limit.actual ?? 0;
        const after = actual + plan.users;
        const detail = `${actual} active user(s) now, ${plan.users} more during the run: ${after} of a licensed ${limit.limit}`;
        if (after > limit.limit) {
          lines.add(
            'licence',
            'fail',
            detail,
            `lower users to ${Math.max(0, limit.limit - actual)} or less, clean up leftovers (cleanup --run-id), or raise the licence's seats`,
          );
        } else if (after > limit.limit * 0.9)
          lines.add('licence', 'warn', detail, 'close to the seat limit: leftovers of this run would push past it');
        else lines.add('licence', 'pass', detail);
      }
    } catch (error) {
      lines.add(
        'licence',
        'warn',
        `cannot read the entitlements: ${message(error)}`,
        "check the licence's seats by hand (Deployment → Licenses)",
      );
    }

    // ---- coder CLI, Prometheus ----
    if (!sshThroughCli)
      lines.add('coder-cli', 'skip', plan.traffic.ssh.enabled ? 'the SSH stage connects directly' : 'the SSH stage is disabled');
    else if (options.coderBinaryPath)
      lines.add('coder-cli', 'pass', `configured: ${options.coderBinaryPath} (make sure it is coderd ${version}'s)`);
    else {
      const name = coderBinaryName();
      try {
        const answer = await httpRequest({
          url: `${connection.url.replace(/\/+$/, '')}/bin/${name}`,
          method: 'HEAD',
          timeoutMs: 10_000,
          signal: options.signal,
        });
        if (answer.status === 200) lines.add('coder-cli', 'pass', `${name} is downloadable from the deployment (same version as coderd)`);
        else
          lines.add(
            'coder-cli',
            'fail',
            `GET /bin/${name} answered ${answer.status}`,
            'install the coder CLI of the same version and pass --coder-binary PATH',
          );
      } catch (error) {
        lines.add(
          'coder-cli',
          'fail',
          `/bin/${name}: ${(error as Error).message}`,
          'install the coder CLI of the same version and pass --coder-binary PATH',
        );
      }
    }
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
        const answer = await httpRequest({ url, method: 'GET', timeoutMs: 10_000, signal: options.signal }).catch((error: Error) => error);
        if (answer instanceof Error) problems.push(`${field} ${url}: ${answer.message}`);
        else if (answer.status !== 200) problems.push(`${field} ${url}: answered ${answer.status}`);
      }
      if (problems.length) lines.add('prometheus', 'fail', problems.join('; '), 'fix the URL(s) or remove them from the plan');
      else lines.add('prometheus', 'pass', `${scrapeUrls.length} scrape URL(s) answer`);
    }

    // ---- runner, leftovers ----
    const machine = options.machine ?? { cores: os.cpus().length, memoryBytes: os.totalmem() };
    const capacity = runnerCapacity(plan, machine);
    if (capacity.shardsNeeded <= 1 && !capacity.cliRampTooFast) lines.add('runner', 'pass', capacity.summary);
    else
      lines.add(
        'runner',
        'warn',
        capacity.summary,
        capacity.shardsNeeded > 1
          ? `run it as ${capacity.shardsNeeded} shards: --shards ${capacity.shardsNeeded} (--local here, or k8s run)`
          : capacity.cliRampTooFast,
      );
    try {
      const runs = await listLeftoverRuns(connection);
      if (runs.size === 0) lines.add('leftovers', 'pass', 'no scale-test users of earlier runs');
      else
        lines.add(
          'leftovers',
          'warn',
          `${[...runs.values()].reduce((sum, count) => sum + count, 0)} scale-test user(s) of ${runs.size} earlier run(s): ${[...runs.keys()].join(', ')}`,
          [...runs.keys()].map((runId) => `coder-scaletest cleanup --run-id ${runId}`).join('; '),
        );
    } catch (error) {
      lines.add('leftovers', 'skip', `cannot list users: ${message(error)}`);
    }
    return report();
  } finally {
    client.close();
  }
}
