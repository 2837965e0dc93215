// How much of a plan one runner holds: connections per core for each traffic stage, memory per
// `coder` CLI process, how many connections one runner carries at the plan's busiest moment
// (stage windows overlap) and how many shards the plan needs. Pure: the pre-run check feeds it
// the machine (cores, memory) and, where it measured one, the deployment's own CLI process.
// The per-connection costs default to `npm run bench` figures (docs/bench.md); the real `coder`
// binary's are estimates until measured, and say so.
import { DEFAULT_CONNECTIONS_PER_SECOND } from '../stages/echo/ramp';

/** What one connection costs the runner at the reference traffic (1024 B every 100 ms). */
export interface ConnectionCost {
  /** CPU in cores (0.001 = 0.1 % of a core), the runner's side and its child process's together. */
  cores: number;
  /** Memory per connection, bytes (a child process's PSS: shared pages split). */
  memoryBytes: number;
  /** CPU seconds to open one (a process start, a key exchange): it bounds the ramp's rate. */
  openCpuSeconds: number;
  /** Where the figure comes from. */
  source: string;
}

const MIB = 1024 * 1024;

/**
 * Defaults. Echo stages: the bench's CPU per 100k echoes (web terminal 10.9, apps 9.6, SSH over
 * direct TCP 16.5 CPU-s on the project's 2-core machine) at 10 echoes a second, heap + buffers
 * per connection. The CLI path: the bench's `cli` figure — the simulated CLI (a Node process per
 * connection) measured 0.83 % of a core per connection with its process, 8 MiB PSS (44 MiB RSS,
 * Node's own pages shared) and 0.24 CPU-s to start, on a loaded machine. The deployment's real
 * `coder` (Go) is estimated: its process holds a tailnet (WireGuard, gVisor netstack, DERP
 * WebSocket) per connection — coder/coder#9985 saw ~70 MB per in-process agent connection of
 * the reference runner — and relays each tick through userspace WireGuard; measure it with
 * `measuredCliProcess` where a deployment is at hand.
 */
export const CONNECTION_COSTS = {
  pty: { cores: 0.0011, memoryBytes: 40 * 1024, openCpuSeconds: 0.005, source: 'npm run bench: web terminal, 10.9 CPU-s per 100k echoes' },
  apps: { cores: 0.001, memoryBytes: 10 * 1024, openCpuSeconds: 0.005, source: 'npm run bench: apps, 9.6 CPU-s per 100k echoes' },
  sshDirect: {
    cores: 0.0017,
    memoryBytes: 15 * 1024,
    openCpuSeconds: 0.01,
    source: 'npm run bench: SSH over direct TCP, 16.5 CPU-s per 100k echoes',
  },
  sshSimulatedCli: {
    cores: 0.0083,
    memoryBytes: 8 * MIB,
    openCpuSeconds: 0.24,
    source: 'npm run bench: SSH through the simulated coder CLI (a Node process per connection)',
  },
  sshCoderCli: {
    cores: 0.008,
    memoryBytes: 70 * MIB,
    openCpuSeconds: 0.15,
    source:
      "estimate for the deployment's coder CLI (Go, a tailnet per process; coder/coder#9985: ~70 MB per agent connection) until measured",
  },
  /** Per browser session (one context in a shared Chromium). */
  dashboard: {
    cores: 0.029,
    memoryBytes: 99 * MIB,
    openCpuSeconds: 0.5,
    source: 'npm run bench: Chromium per dashboard session, 99 MiB PSS, 2.9 % of a core',
  },
} satisfies Record<string, ConnectionCost>;

export type CapacityStage = 'ssh' | 'pty' | 'apps' | 'dashboard';

/** The plan as capacity sees it (a validated Plan fits; only these fields are read). */
export interface CapacityPlan {
  users: number;
  timeline: { slotSeconds: number } & Partial<Record<CapacityStage, [number, number]>>;
  traffic: {
    ssh: {
      enabled: boolean;
      transport: 'coder-cli' | 'direct';
      tickIntervalMs: number;
      bytesPerTick: number;
      connectionsPerSecond?: number;
      rampSeconds?: number;
    };
    pty: { enabled: boolean; tickIntervalMs: number; bytesPerTick: number };
    apps: { enabled: boolean; tickIntervalMs: number; bytesPerTick: number };
    dashboard: { enabled: boolean; maxBrowsers?: number };
  };
}

export interface RunnerMachine {
  cores: number;
  memoryBytes: number;
}

export interface CapacityOptions {
  /** The deployment serves the simulated CLI (the simulator) rather than coderd's Go binary. */
  simulatedCli?: boolean;
  /** A measured coder CLI process (e.g. one opened by the pre-run check): replaces the estimate. */
  measuredCliProcess?: { cores?: number; memoryBytes?: number; openCpuSeconds?: number };
  /** Share of the cores and memory the runner may plan to use: the rest is headroom for ramps, GC and snapshots. */
  budgetShare?: number;
}

export interface StageCapacity {
  stage: CapacityStage;
  connections: number;
  cost: ConnectionCost;
  /** How many of this stage's connections one core carries within the budget. */
  connectionsPerCore: number;
}

export interface RunnerCapacity {
  stages: StageCapacity[];
  /** Connections (all stages) open at once at the plan's busiest moment. */
  peakConnections: number;
  /** The plan's load at that moment, in cores and bytes. */
  peakCores: number;
  peakMemoryBytes: number;
  /** How many of the plan's users one runner holds (all of them when one runner is enough). */
  usersPerRunner: number;
  /** Runners (shards) the plan needs on machines like this one. */
  shardsNeeded: number;
  limitedBy: 'cpu' | 'memory' | 'none';
  /** With the CLI transport: the most CLI processes this runner starts a second within the budget. */
  cliStartsPerSecond?: number;
  /** With the CLI transport: memory of one `coder` CLI process, bytes. */
  memoryPerCliProcess?: number;
  /** With the CLI transport: the SSH ramp plans more CLI starts a second (per runner) than it can make. */
  cliRampTooFast?: string;
  /** One line for the check's output. */
  summary: string;
}

const DEFAULT_BUDGET_SHARE = 0.7;
const REFERENCE_TICKS_PER_SECOND = 10;
const REFERENCE_BYTES_PER_TICK = 1024;

/** What one SSH connection costs on the plan's transport. */
export function sshCost(transport: 'coder-cli' | 'direct', options: CapacityOptions = {}): ConnectionCost {
  if (transport === 'direct') return CONNECTION_COSTS.sshDirect;
  const base = options.simulatedCli ? CONNECTION_COSTS.sshSimulatedCli : CONNECTION_COSTS.sshCoderCli;
  const measured = options.measuredCliProcess;
  if (!measured) return base;
  return {
    cores: measured.cores ?? base.cores,
    memoryBytes: measured.memoryBytes ?? base.memoryBytes,
    openCpuSeconds: measured.openCpuSeconds ?? base.openCpuSeconds,
    source: 'measured coder CLI process',
  };
}

/** Traffic other than the reference scales the CPU per connection (ticks a second, and bytes a little). */
function trafficFactor(settings: { tickIntervalMs: number; bytesPerTick: number }): number {
  const ticks = 1000 / settings.tickIntervalMs / REFERENCE_TICKS_PER_SECOND;
  // Per-echo cost is mostly per message; the bytes add on top (a rough half weight).
  const bytes = 0.5 + 0.5 * (settings.bytesPerTick / REFERENCE_BYTES_PER_TICK);
  return ticks * bytes;
}

/** The runner capacity of `plan` on `machine`: per-stage connections per core, peak load, shards needed. */
export function runnerCapacity(plan: CapacityPlan, machine: RunnerMachine, options: CapacityOptions = {}): RunnerCapacity {
  const budget = options.budgetShare ?? DEFAULT_BUDGET_SHARE;
  const stages: StageCapacity[] = [];
  const add = (stage: CapacityStage, connections: number, base: ConnectionCost, factor: number) => {
    const cost = { ...base, cores: base.cores * factor };
    stages.push({ stage, connections, cost, connectionsPerCore: Math.floor(budget / cost.cores) });
  };
  const { traffic } = plan;
  if (traffic.ssh.enabled) add('ssh', plan.users, sshCost(traffic.ssh.transport, options), trafficFactor(traffic.ssh));
  if (traffic.pty.enabled) add('pty', plan.users, CONNECTION_COSTS.pty, trafficFactor(traffic.pty));
  if (traffic.apps.enabled) add('apps', plan.users, CONNECTION_COSTS.apps, trafficFactor(traffic.apps));
  if (traffic.dashboard.enabled)
    add('dashboard', Math.min(plan.users, traffic.dashboard.maxBrowsers ?? plan.users), CONNECTION_COSTS.dashboard, 1);

  // The busiest moment: the slot in which the most (costliest) stages overlap.
  const windowOf = (stage: CapacityStage) => plan.timeline[stage] ?? [0, Infinity];
  const edges = [...new Set(stages.flatMap((s) => windowOf(s.stage)))].filter(Number.isFinite).sort((a, b) => a - b);
  let peak = { cores: 0, memory: 0, connections: 0 };
  for (const at of edges.length ? edges : [0]) {
    const live = stages.filter((s) => windowOf(s.stage)[0] <= at && at < windowOf(s.stage)[1]);
    const load = {
      cores: live.reduce((sum, s) => sum + s.connections * s.cost.cores, 0),
      memory: live.reduce((sum, s) => sum + s.connections * s.cost.memoryBytes, 0),
      connections: live.reduce((sum, s) => sum + s.connections, 0),
    };
    if (load.cores / machine.cores + load.memory / machine.memoryBytes > peak.cores / machine.cores + peak.memory / machine.memoryBytes)
      peak = load;
  }
  const cpuRunners = peak.cores / (budget * machine.cores);
  const memoryRunners = peak.memory / (budget * machine.memoryBytes);
  const needed = Math.max(1, Math.ceil(Math.max(cpuRunners, memoryRunners) - 1e-9));
  const limitedBy = cpuRunners <= 1 && memoryRunners <= 1 ? 'none' : cpuRunners >= memoryRunners ? 'cpu' : 'memory';
  const cli = traffic.ssh.enabled && traffic.ssh.transport === 'coder-cli' ? stages.find((s) => s.stage === 'ssh')!.cost : undefined;
  const cliStartsPerSecond = cli ? Math.max(1, Math.floor((budget * machine.cores) / cli.openCpuSeconds)) : undefined;
  const sshRate =
    traffic.ssh.rampSeconds !== undefined
      ? plan.users / Math.max(traffic.ssh.rampSeconds, 1e-9)
      : (traffic.ssh.connectionsPerSecond ?? DEFAULT_CONNECTIONS_PER_SECOND);
  const perRunnerRate = sshRate / needed;
  const cliRampTooFast =
    cliStartsPerSecond !== undefined && perRunnerRate > cliStartsPerSecond
      ? `the SSH ramp starts ${Math.round(perRunnerRate)} coder CLI processes a second per runner, about ${cliStartsPerSecond} fit: ` +
        `set traffic.ssh.connectionsPerSecond to ${cliStartsPerSecond * needed} or less, or use more runners`
      : undefined;
  const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  const summary =
    `at its busiest the plan holds ${peak.connections} connections: ${peak.cores.toFixed(2)} cores and ${gib(peak.memory)} ` +
    `against ${(budget * machine.cores).toFixed(1)} cores and ${gib(budget * machine.memoryBytes)} usable on this runner (${Math.round(budget * 100)} % of ${machine.cores} cores, ${gib(machine.memoryBytes)}); ` +
    (needed === 1 ? 'one runner holds it' : `it needs ${needed} runners (shards), limited by ${limitedBy}`) +
    (cli
      ? `; each SSH connection is a coder CLI process of ${Math.round(cli.memoryBytes / MIB)} MiB (${cli.source}), and this runner starts at most ~${cliStartsPerSecond} a second`
      : '');
  return {
    stages,
    peakConnections: peak.connections,
    peakCores: Math.round(peak.cores * 1000) / 1000,
    peakMemoryBytes: Math.round(peak.memory),
    usersPerRunner: Math.floor(plan.users / Math.max(1, cpuRunners, memoryRunners)),
    shardsNeeded: needed,
    limitedBy,
    cliStartsPerSecond,
    memoryPerCliProcess: cli?.memoryBytes,
    cliRampTooFast,
    summary: cliRampTooFast ? `${summary}; ${cliRampTooFast}` : summary,
  };
}
