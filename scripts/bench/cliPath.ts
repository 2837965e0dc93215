// The `coder` CLI path's cost per connection (issue 19 part 3): N SSH echo connections through
// `coder ssh --stdio` (here the simulated deployment's CLI: a Node script, one process each),
// beside the same N over direct TCP (ssh2 only) in the same run, against the same target. Each
// path: open the N one after another (a paced ramp: nothing else competes), then the reference
// traffic for a while; the runner's own CPU and memory, and its child processes' (CPU ticks,
// RSS and PSS — shared pages split — from /proc), per connection. A tool: nothing asserted.
import * as fs from 'fs';
import * as os from 'os';
import { performance } from 'perf_hooks';
import { ensureCoderBinary } from '../../src/coder/cliCache';
import { openSshEchoChannel, type SshTransport } from '../../src/coder/ssh';
import { PayloadPool, seededRandom } from '../../src/engine/common/random';
import { StageMetrics } from '../../src/engine/metrics/stageMetrics';
import { EchoSession } from '../../src/engine/stages/echo/session';
import { TickScheduler, tickPhaseMs } from '../../src/engine/stages/echo/tickScheduler';
import type { Target } from './echoLoad';
import type { BenchFigure } from './figures';

export interface PathCost {
  connections: number;
  /** Wall time to open one connection, opened one after another (median). */
  openMsP50: number;
  /** CPU (runner + its children) spent opening one connection. */
  openCpuMs: number;
  /** Steady traffic: CPU of runner + children per connection, in cores (0.01 = 1 % of a core). */
  coresPerConnection: number;
  /** Of which the child processes (the CLI path's own processes). */
  childCoresPerConnection: number;
  /** The runner's heap + buffers per connection (its side of the SSH connection; steadier than RSS between runs), KiB. */
  runnerHeapPerConnectionKiB: number;
  /** Child processes: RSS each (shared pages counted in every one) and PSS each (shared pages split), MiB. */
  childRssMiB?: number;
  childPssMiB?: number;
  echoes: number;
  rttP95Ms: number;
}

export interface CliPathFigures {
  seconds: number;
  cli: PathCost;
  direct: PathCost;
  /** The CLI path's child processes over the direct path, per connection: what one process per connection adds. */
  extraCoresPerConnection: number;
  extraMemoryMiBPerConnection: number;
}

const TICKS_PER_SECOND = 100;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The runner's direct children (every thread's `children` file: worker threads spawn too). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const tid of fs.readdirSync(`/proc/${process.pid}/task`)) {
    const text = fs.readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'latin1').trim();
    if (text) pids.push(...text.split(/\s+/).map(Number));
  }
  return pids;
}

function cpuTicks(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** RSS and PSS of a process, KiB (smaps_rollup). */
function memoryKiB(pid: number): { rss: number; pss: number } {
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rss: field('Rss'), pss: field('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** CPU ms of this process and of the given children since a mark. */
function cpuMark(pids: () => number[]) {
  const self = process.cpuUsage();
  const children = new Map(pids().map((pid) => [pid, cpuTicks(pid)]));
  return {
    since(): { selfMs: number; childMs: number } {
      const used = process.cpuUsage(self);
      let childTicks = 0;
      for (const pid of pids()) childTicks += cpuTicks(pid) - (children.get(pid) ?? 0);
      return { selfMs: (used.user + used.system) / 1000, childMs: (childTicks / TICKS_PER_SECOND) * 1000 };
    },
  };
}

async function measurePath(
  transportFor: () => SshTransport,
  options: { connections: number; seconds: number; bytesPerTick: number; tickIntervalMs: number },
): Promise<PathCost> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const heap = () => {
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.external;
  };
  const heapBefore = heap();
  const metrics = new StageMetrics('ssh', 'SSH');
  const random = seededRandom(7);
  const pool = new PayloadPool(random);
  const scheduler = new TickScheduler();
  const before = new Set(childPids());
  const ours = () => childPids().filter((pid) => !before.has(pid));
  const opening = cpuMark(ours);
  const openTimes: number[] = [];
  const sessions: EchoSession[] = [];
  // Opened one after another, each schedule starting once it is up: opening is measured apart.
  for (let i = 0; i < options.connections; i++) {
    const session = new EchoSession({
      open: () => openSshEchoChannel({ transport: transportFor(), bytesPerTick: options.bytesPerTick, closeTimeoutMs: 5000 }),
      bytesPerTick: options.bytesPerTick,
      tickIntervalMs: options.tickIntervalMs,
      echoTimeoutMs: 10_000,
      metrics,
      random,
      pool,
      scheduler,
    });
    const started = performance.now();
    await session.start(performance.now() + tickPhaseMs(i, options.connections, options.tickIntervalMs));
    openTimes.push(performance.now() - started);
    sessions.push(session);
  }
  const openCost = opening.since();
  // Settle one second, then the measured window.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const steady = cpuMark(ours);
  const echoesBefore = metrics.completed;
  metrics.rollInterval();
  const windowStart = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  const seconds = (performance.now() - windowStart) / 1000;
  const used = steady.since();
  const echoes = metrics.completed - echoesBefore;
  const rtt = metrics.latency.takeInterval();
  const heapConnected = heap();
  const children = ours().map(memoryKiB);
  await Promise.all(sessions.map((session) => session.stop()));
  const n = options.connections;
  openTimes.sort((a, b) => a - b);
  return {
    connections: n,
    openMsP50: round(openTimes[Math.floor(openTimes.length / 2)] ?? 0, 1),
    openCpuMs: round((openCost.selfMs + openCost.childMs) / n, 1),
    coresPerConnection: round((used.selfMs + used.childMs) / 1000 / seconds / n, 4),
    childCoresPerConnection: round(used.childMs / 1000 / seconds / n, 4),
    runnerHeapPerConnectionKiB: round((heapConnected - heapBefore) / 1024 / n, 1),
    childRssMiB: children.length ? round(children.reduce((sum, c) => sum + c.rss, 0) / children.length / 1024, 1) : undefined,
    childPssMiB: children.length ? round(children.reduce((sum, c) => sum + c.pss, 0) / children.length / 1024, 1) : undefined,
    echoes,
    rttP95Ms: round(rtt.p95, 1),
  };
}

/** The CLI path and the direct path, N connections each, the reference traffic for `seconds`. */
export async function cliPathCost(
  target: Target,
  options: { connections: number; seconds: number; bytesPerTick: number; tickIntervalMs: number },
): Promise<CliPathFigures | { skipped: string }> {
  if (process.platform !== 'linux') return { skipped: `child processes are read from /proc: not on ${process.platform}` };
  const connection = { url: target.url, token: target.token };
  const binary = await ensureCoderBinary({ connection, cacheDir: fs.mkdtempSync(`${os.tmpdir()}/coder-scaletest-bench-cli-`) });
  const cli = await measurePath(
    () => ({ kind: 'cli', binaryPath: binary.path, connection, owner: target.owner, workspace: target.workspace, agent: target.agentName }),
    options,
  );
  const direct = await measurePath(
    () => ({ kind: 'tcp', host: target.ssh.host, port: target.ssh.port, username: `${target.owner}/${target.workspace}` }),
    options,
  );
  return {
    seconds: options.seconds,
    cli,
    direct,
    extraCoresPerConnection: round(cli.coresPerConnection - direct.coresPerConnection, 4),
    extraMemoryMiBPerConnection: round(
      (cli.childPssMiB ?? 0) + (cli.runnerHeapPerConnectionKiB - direct.runnerHeapPerConnectionKiB) / 1024,
      1,
    ),
  };
}

/** The coder CLI path per connection (scripts/bench/cliPath.ts) beside direct ssh2, same run. */
function cliPathRows(c: Record<string, any>): string[] {
  if (c.skipped) return [`| SSH through the coder CLI, per connection | not measured: ${c.skipped} | | | |`];
  const path = (p: Record<string, any>) =>
    `open ${p.openMsP50} ms (${p.openCpuMs} ms CPU); ${(p.coresPerConnection * 100).toFixed(2)} % of a core; runner heap ${p.runnerHeapPerConnectionKiB} KiB` +
    (p.childPssMiB !== undefined ? `; process ${p.childRssMiB} MiB RSS, ${p.childPssMiB} MiB PSS` : '');
  return [
    `| SSH through the coder CLI (simulated CLI, Node), per connection: ${c.cli.connections} connections, ${c.seconds} s of 1024 B / 100 ms | ${path(c.cli)} | direct ssh2: ${path(c.direct)} | | — |`,
    `| the CLI path's extra per connection (its process) | +${(c.extraCoresPerConnection * 100).toFixed(2)} % of a core, +${c.extraMemoryMiBPerConnection} MiB | | | — |`,
  ];
}

/** As `npm run bench` runs it (`--only=cli`; see figures.ts). */
export const cliPathFigure: BenchFigure<CliPathFigures | { skipped: string }> = {
  name: 'cli',
  measure: ({ smoke, target, reference }) => cliPathCost(target, { connections: smoke ? 5 : 40, seconds: smoke ? 2 : 8, ...reference }),
  rows: cliPathRows,
};
