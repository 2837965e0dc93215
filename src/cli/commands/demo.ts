// `demo`: the reference plan scaled down, against the embedded simulated deployment.
import { CoderClient } from '../../coder/client';
import { defaultPlan, type Plan } from '../../engine';
import { pushTemplate } from '../../engine/templates/push';
import { startSimDeploymentProcess } from '../../sim/process';
import { parseCommandArgs, stringOption, UsageError, wholeNumberOption } from '../args';
import { COMMANDS } from '../commandSpecs';
import { execute } from '../execute';
import type { CliIo } from '../io';
import { applyWorkersOption, checkStagesCanRun, checkOutDir } from '../runInputs';

export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(COMMANDS.demo!, args);
  const users = wholeNumberOption('demo', 'users', stringOption(values, 'users'), 20, 1, 200);
  const slotText = stringOption(values, 'slot-seconds');
  const slotSeconds = Number(slotText ?? 8);
  if (!(slotSeconds >= 1 && slotSeconds <= 600))
    throw new UsageError(`--slot-seconds must be a number from 1 to 600, got "${slotText}"`, 'demo');
  const out = stringOption(values, 'out') ?? 'scaletest-results';
  checkOutDir(out);
  const ndjson = values.ndjson === true;
  const chromium = stringOption(values, 'chromium');
  const info = ndjson ? io.stderr : io.stdout;

  info.write(`starting the embedded simulated Coder deployment...\n`);
  // In a process of its own, so the simulator's half of the traffic cannot stall the runner.
  // Below the runner's CPU priority: on one machine, the runner's event loop is the stopwatch.
  // Empty, like a fresh deployment: the demo pushes the scale-test template as a user would.
  const sim = await startSimDeploymentProcess({
    buildDurationMs: 1500,
    agentConnectDelayMs: 500,
    directSsh: true,
    niceness: 5,
    template: false,
    subdomainApps: true,
  });
  try {
    info.write(`pushing the scale-test template (templates/docker), as \`coder-scaletest template push --kind docker\` does...\n`);
    const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
    const pushed = await pushTemplate({
      owner,
      kind: 'docker',
      signal: io.signal,
      log: (line) => info.write(`[template] ${line}\n`),
    }).finally(() => owner.close());
    const plan = demoPlan(defaultPlan(), {
      users,
      slotSeconds,
      dashboard: values['no-dashboard'] !== true,
      directSsh: values['ssh-cli'] === true ? undefined : sim.directSsh,
      prometheusUrl: sim.prometheusUrl,
    });
    plan.deployment.template = pushed.template.name;
    checkStagesCanRun(plan, chromium);
    applyWorkersOption(plan, values, 'demo');
    info.write(
      `simulated deployment at ${sim.url}; running the reference plan scaled down: ${users} users, ${slotSeconds} s slots ` +
        `(SSH T0-T3, web terminal T1-T4, apps T2-T5, dashboard T3-T6: ${6 * slotSeconds} s of traffic)\n`,
    );
    // The simulated deployment is this process's child but not the runner's: its CPU is the target's.
    const result = await execute(
      plan,
      { url: sim.url, token: sim.ownerToken },
      { out, ndjson, chromium, foreignProcessPids: [sim.pid] },
      io,
    );
    return result.exitCode;
  } finally {
    await sim.close();
  }
}

/** The default plan scaled down for the embedded simulator. */
export function demoPlan(
  plan: Plan,
  options: { users: number; slotSeconds: number; dashboard: boolean; directSsh?: { host: string; port: number }; prometheusUrl?: string },
): Plan {
  plan.name = 'demo: reference scale test, scaled down, against the simulated deployment';
  plan.users = options.users;
  plan.timeline.slotSeconds = options.slotSeconds;
  plan.deployment.prometheusUrl = options.prometheusUrl;
  plan.concurrency = { prepare: 10, cleanup: 10 };
  plan.traffic.dashboard.enabled = options.dashboard;
  // One Chromium context per user is heavy on a small machine; a handful shows the stage.
  plan.traffic.dashboard.maxBrowsers = Math.min(options.users, 5);
  plan.traffic.dashboard.intervalSeconds = Math.max(1, Math.min(10, options.slotSeconds / 3));
  plan.traffic.dashboard.jitterSeconds = plan.traffic.dashboard.intervalSeconds / 2;
  for (const stage of ['ssh', 'pty', 'apps'] as const) {
    // Each echo stage ramps over its first slot: the three ramps follow one another (their
    // windows start a slot apart) instead of piling handshakes onto one small machine, and two
    // thirds of each window are steady traffic.
    plan.traffic[stage].rampSeconds = options.slotSeconds;
  }
  if (options.directSsh) {
    // The simulator's direct SSH port spares one coder CLI process per connection (--ssh-cli
    // takes the `coder ssh --stdio` path instead, as against a real deployment).
    plan.traffic.ssh.transport = 'direct';
    plan.traffic.ssh.directAddress = `${options.directSsh.host}:${options.directSsh.port}`;
  }
  return plan;
}
