// The pre-run check (`coder-scaletest check PLAN`, *Check Deployment*, and the first step of
// `run`): before anything is created, with the plan's own settings, one line per thing that
// would otherwise fail a run after 2000 users and workspaces exist — each pass / warn / fail
// with what was found and what to do. Read-only: it creates nothing on the deployment.
// What each line reads, and its pass / warn / fail rules: README, "Against your deployment".
// Each line's check lives in a module of this folder named for what it checks; this file
// runs them in order and skips what an earlier failure denies.
import * as os from 'os';
import { CoderClient } from '../../coder/client';
import type { DeploymentConnection } from '../../coder/connection';
import type { Plan } from '../plan/plan';
import { checkAccess } from './access';
import { checkCoderCli } from './coderCli';
import { checkLeftovers } from './leftovers';
import { checkLicence } from './licence';
import { CHECK_LINE_IDS, Lines, type CheckLine } from './lines';
import { checkPrometheus } from './prometheus';
import { checkProvisioners } from './provisioners';
import { checkRateLimits } from './rateLimits';
import { checkRunnerCapacity } from './runnerCapacity';
import { checkTemplate } from './template';
import { checkWildcardHost } from './wildcard';

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
    const access = await checkAccess(client, connection, lines);
    if (!access) return report();
    const { version, me } = access;
    const { organizationId, agent, echoApp } = await checkTemplate(client, plan, me, lines);
    const host = (await client.appHost().catch(() => ({ host: '' }))).host;
    const subdomainApps = Boolean(plan.traffic.apps.enabled && echoApp?.subdomain);
    const sshThroughCli = plan.traffic.ssh.enabled && plan.traffic.ssh.transport === 'coder-cli';
    checkRateLimits({ version, plan, subdomainApps, sshThroughCli }, lines);
    await checkWildcardHost({ connection, plan, version, host, agent, echoApp }, lines);
    await checkProvisioners(client, plan, organizationId, lines);
    await checkLicence(client, plan, lines);
    await checkCoderCli(
      { plan, connection, version, sshThroughCli, coderBinaryPath: options.coderBinaryPath, signal: options.signal },
      lines,
    );
    await checkPrometheus(plan, lines, options.signal);
    checkRunnerCapacity(plan, options.machine ?? { cores: os.cpus().length, memoryBytes: os.totalmem() }, lines);
    await checkLeftovers(connection, lines);
    return report();
  } finally {
    client.close();
  }
}
