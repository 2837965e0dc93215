// How much a run costs the VS Code extension host's event loop, outside VS Code: this process
// plays the host. It runs the demo plan (same shape as `coder-scaletest demo`) twice against
// a simulated deployment in a child process, sampling its own event-loop delay each time:
//   1. the runner in a child process, this process only relaying snapshots (the extension now);
//   2. the engine inside this process (the extension before).
//   node esbuild.mjs && node --import tsx scripts/host-lag.ts [--users 20] [--slot-seconds 8] [--no-dashboard]
// Prints one JSON line per mode. A measuring tool, not a test: nothing is asserted.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { demoPlan } from '../src/cli/commands/demo';
import { defaultPlan, startRun } from '../src/engine';
import { startSimDeploymentProcess } from '../src/sim/process';
import { startRunInChild, type RunnerEntry } from '../src/vscode/processBackend';
import { HostLagMonitor, type HostLag } from '../src/vscode/runs/hostLag';

const ROOT = path.resolve(__dirname, '..');
const ENTRY: RunnerEntry = { modulePath: path.join(ROOT, 'dist', 'cli.js') };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '20' },
      'slot-seconds': { type: 'string', default: '8' },
      'no-dashboard': { type: 'boolean', default: false },
    },
  });
  if (!fs.existsSync(ENTRY.modulePath)) throw new Error(`${ENTRY.modulePath} is missing: run \`node esbuild.mjs\` first`);
  const users = Number(values.users);
  const slotSeconds = Number(values['slot-seconds']);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'host-lag-'));
  const sim = await startSimDeploymentProcess({
    entry: ENTRY.modulePath,
    directSsh: true,
    buildDurationMs: 1500,
    agentConnectDelayMs: 500,
  });
  try {
    const plan = () =>
      demoPlan(defaultPlan(), {
        users,
        slotSeconds,
        dashboard: !values['no-dashboard'],
        directSsh: sim.directSsh,
        prometheusUrl: sim.prometheusUrl,
      });
    const connection = { url: sim.url, token: sim.ownerToken };
    const measure = async (mode: string, run: () => Promise<{ status: string; runnerLagP99Ms: number }>) => {
      const monitor = new HostLagMonitor();
      const cpuBefore = process.cpuUsage();
      const result = await run();
      const lag: HostLag = monitor.stop();
      const cpu = process.cpuUsage(cpuBefore);
      // This process's own CPU share: small when it only relays snapshots, so lag beyond the
      // baseline is the machine's cores being busy, not work done here.
      const hostCpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / lag.durationMs) * 1000) / 10;
      console.log(
        JSON.stringify({
          mode,
          users,
          slotSeconds,
          status: result.status,
          hostLag: lag,
          hostCpuPercent,
          runnerEventLoopLagP99Ms: result.runnerLagP99Ms,
          loadAverage1m: os.loadavg()[0],
        }),
      );
    };
    // The machine's own noise (other processes competing for the cores), for comparison.
    await measure('baseline: no run', async () => {
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      return { status: 'idle', runnerLagP99Ms: 0 };
    });
    await measure('runner in a child process (extension now)', async () => {
      const test = await startRunInChild(ENTRY, {
        planText: JSON.stringify(plan()),
        planSource: 'demo',
        connection,
        outDir: out,
        signal: new AbortController().signal,
        log: () => undefined,
      });
      let worstRunnerLag = 0;
      test.subscribe((snapshot) => (worstRunnerLag = Math.max(worstRunnerLag, snapshot.runner.eventLoopLagP99Ms)));
      const { snapshot } = await test.done;
      return { status: `${snapshot.status}/${snapshot.verdict}`, runnerLagP99Ms: worstRunnerLag };
    });
    await measure('engine in this process (extension before)', async () => {
      const handle = startRun({ plan: plan(), connection, outDir: out });
      let worstRunnerLag = 0;
      handle.subscribe((snapshot) => (worstRunnerLag = Math.max(worstRunnerLag, snapshot.runner.eventLoopLagP99Ms)));
      const { snapshot } = await handle.done;
      return { status: `${snapshot.status}/${snapshot.verdict}`, runnerLagP99Ms: worstRunnerLag };
    });
  } finally {
    await sim.close();
    fs.rmSync(out, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  },
);
