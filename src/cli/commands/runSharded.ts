// Sharded runs from the command line:
//   run PLAN --shard I/N --run-id ID [--start-at MS]   one shard: its share of the users, shard
//                                                        messages (NDJSON) on stdout
//   run PLAN --shards N --local                         the coordinator: N shard processes here,
//                                                        merged through the same path as a cluster
import { fork, type ChildProcess } from 'child_process';
import * as readline from 'readline';
import type { DeploymentConnection } from '../../coder/connection';
import { startRun, type Plan } from '../../engine';
import { checkRunId, newRunId } from '../../engine/run/naming';
import { childEntry } from '../../sim/process';
import { coordinate, newShardMerger, type CoordinatorOptions, type ShardSource } from '../../shard/coordinator';
import type { MergedOutcome, ShardMerger } from '../../shard/merge';
import { encodeShardMessage, parseShardMessage, parseShardSpec } from '../../shard/message';
import { ShardReporter, type ShardEventLine } from '../../shard/producer';
import { stringOption, UsageError, wholeNumberOption, type OptionSpec, type OptionValues } from '../args';
import { watchInterrupts } from '../interrupts';
import { parseMetricsAddress } from '../../engine/outputs/prometheus';
import { Observers, type ObserveSettings } from '../observe';
import { ProgressView, type Output } from '../progress';

export const SHARD_RUN_OPTIONS: OptionSpec[] = [
  {
    flags: '--shard <I/N>',
    help: 'run as shard I of N: only users i with i mod N = I; writes shard messages (docs/shard-message.md)',
    expects: 'I/N, e.g. 0/3',
  },
  {
    flags: '--run-id <ID>',
    help: 'with --shard: the run id all shards share (with --shards: default a new one)',
    expects: 'a run id: 4-12 lowercase letters or digits, starting with a letter',
  },
  {
    flags: '--start-at <MS>',
    help: 'with --shard: epoch milliseconds of traffic T0, agreed by every shard (default: when prepare ends)',
    expects: 'epoch milliseconds',
  },
  { flags: '--shard-output <FORMAT>', help: 'with --shard: ndjson (the default; one shard message per line on stdout)', expects: 'ndjson' },
  {
    flags: '--shards <N>',
    help: 'with --local: run N shard processes on this machine and merge them into one run',
    expects: 'a whole number of shards from 1 to 64',
  },
  { flags: '--local', help: 'with --shards: the shards are processes on this machine' },
  {
    flags: '--stdin',
    help: 'with --shards and --run-id: merge shard messages read from stdin (e.g. kubectl logs -f of the pods); other lines are skipped',
  },
  {
    flags: '--start-delay <S>',
    help: 'with --shards: seconds from launch to the agreed traffic start, time for every shard to prepare (default: 20)',
    expects: 'seconds, 1 to 3600',
  },
];

export interface ShardRunContext {
  plan: Plan;
  planFile: string;
  connection: DeploymentConnection;
  out: string;
  values: OptionValues;
  io: { stdout: Output; stderr: Output; env: NodeJS.ProcessEnv; signal?: AbortSignal; stdin?: NodeJS.ReadableStream };
  /** /metrics (a shard: its own; the coordinator: the merged view), Grafana, the summary. */
  observe?: ObserveSettings;
}

const NO_OBSERVERS: ObserveSettings = { lingerMs: 0 };

/** Whether `values` ask for a sharded run (then runShardedCommand handles it). */
export function isShardedRun(values: OptionValues): boolean {
  return values.shard !== undefined || values.shards !== undefined || values.local === true || values.stdin === true;
}

export async function runShardedCommand(context: ShardRunContext): Promise<number> {
  const { values } = context;
  if (values.shard !== undefined && values.shards !== undefined)
    throw new UsageError('--shard (be one shard) and --shards (coordinate N shards) exclude each other', 'run');
  if (values.shard !== undefined) return runOneShard(context);
  if (values.local !== true && values.stdin !== true) {
    throw new UsageError(
      '--shards N needs --local (shard processes on this machine) or --stdin (merge the messages of shards running elsewhere)',
      'run',
    );
  }
  if (values.shards === undefined) throw new UsageError(`--${values.local === true ? 'local' : 'stdin'} needs --shards N`, 'run');
  if (values.stdin === true && stringOption(values, 'run-id') === undefined)
    throw new UsageError('--stdin needs --run-id: the run id the shards were started with', 'run');
  return coordinateShards(context);
}

function parseStartAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < 1e12)
    throw new UsageError(`--start-at ${text}: expected epoch milliseconds (e.g. ${Date.now() + 60_000})`, 'run');
  return ms;
}

/** A shard never aborts on its own judgement: the coordinator judges the merged view and stops every shard. */
function shardPlan(plan: Plan): Plan {
  return { ...plan, thresholds: plan.thresholds.map((threshold) => ({ ...threshold, abortOnFail: false })) };
}

async function runOneShard({ plan, connection, out, values, io, observe }: ShardRunContext): Promise<number> {
  const shard = parseShardSpecOrUsage(stringOption(values, 'shard')!);
  const runId = stringOption(values, 'run-id');
  if (!runId) throw new UsageError('--shard needs --run-id: the run id every shard of the run shares', 'run');
  try {
    checkRunId(runId);
  } catch (error) {
    throw new UsageError(`--run-id: ${(error as Error).message}`, 'run');
  }
  const output = stringOption(values, 'shard-output') ?? 'ndjson';
  if (output !== 'ndjson') throw new UsageError(`--shard-output ${output}: the only format is ndjson`, 'run');
  const startAt = parseStartAt(stringOption(values, 'start-at'));
  const reporter = new ShardReporter(runId, shard);
  const pending: ShardEventLine[] = [];
  const interrupts = watchInterrupts(
    io.stderr,
    {
      stop: `shard ${shard.index}/${shard.count}: stopping traffic and cleaning up its users`,
      hurry: 'no more waiting for cleanup',
      cleanupCommand: () => `coder-scaletest cleanup --run-id ${runId}`,
    },
    io.signal,
  );
  let observers: Observers | undefined;
  try {
    // A shard's summary and annotations are the coordinator's to write: only /metrics here.
    observers = await Observers.start(
      { ...(observe ?? NO_OBSERVERS), summaryFile: undefined, stepSummaryFile: undefined, grafana: undefined },
      `${shard.index}/${shard.count}`,
      io.stderr,
    );
    const handle = startRun({
      plan: shardPlan(plan),
      connection,
      outDir: out,
      signal: interrupts.stop,
      cleanupSignal: interrupts.hurry,
      shard: { ...shard, runId, startAt },
      chromiumPath: stringOption(values, 'chromium'),
      coderBinaryPath: stringOption(values, 'coder-binary'),
      log: (event) => {
        io.stderr.write(`[shard ${shard.index}] ${event.level}: ${event.message}\n`);
        if (event.level === 'warn' || event.level === 'error') pending.push(event);
      },
    });
    const emit = (snapshot: ReturnType<typeof handle.latest>, final = false) => {
      const workspaces = final ? handle.workspaces() : undefined;
      io.stdout.write(`${encodeShardMessage(reporter.report(snapshot, handle.histograms(), pending.splice(0), Date.now(), workspaces))}\n`);
    };
    const ended: { exitCode?: number } = {};
    observers.bind(runId, {
      snapshot: () => handle.latest(),
      histograms: () => handle.histograms(),
      workspaces: () => handle.workspaces(),
      exitCode: () => ended.exitCode,
    });
    handle.subscribe(emit);
    const result = await handle.done;
    ended.exitCode = result.exitCode;
    // The complete final state (cleanup included), with every workspace's row, before the result line.
    emit(result.snapshot, true);
    io.stdout.write(
      `${encodeShardMessage(reporter.result({ exitCode: result.exitCode, status: result.snapshot.status, reason: result.snapshot.reason, cleanup: result.cleanup }))}\n`,
    );
    await observers.finish({ snapshot: result.snapshot, reportDir: result.reportDir });
    return result.exitCode;
  } finally {
    interrupts.dispose();
    await observers?.close();
  }
}

function parseShardSpecOrUsage(text: string): { index: number; count: number } {
  try {
    return parseShardSpec(text);
  } catch (error) {
    throw new UsageError((error as Error).message, 'run');
  }
}

/** One shard process as the coordinator sees it. */
interface LocalShard {
  index: number;
  child: ChildProcess;
  exited: Promise<void>;
}

async function coordinateShards({ plan, planFile, connection, out, values, io, observe }: ShardRunContext): Promise<number> {
  const count = wholeNumberOption('run', 'shards', stringOption(values, 'shards'), 1, 1, 64);
  const runId = stringOption(values, 'run-id') ?? newRunId(plan.runIdPrefix);
  try {
    checkRunId(runId);
  } catch (error) {
    throw new UsageError(`--run-id: ${(error as Error).message}`, 'run');
  }
  const startDelayS = wholeNumberOption('run', 'start-delay', stringOption(values, 'start-delay'), 20, 1, 3600);
  const startAt = Date.now() + startDelayS * 1000;
  const reportDir = `${out}/${runId}`;
  const merger = newShardMerger(plan, connection, runId, count, reportDir);
  const fromStdin = values.stdin === true;
  io.stderr.write(
    fromStdin
      ? `run ${runId}: merging ${count} shards' messages from stdin\n`
      : `run ${runId}: ${count} local shards, traffic starts at ${new Date(startAt).toISOString()}\n`,
  );
  const source = fromStdin
    ? streamSource(io.stdin ?? process.stdin, merger, count, io.stderr)
    : localSource({ planFile, connection, values, io, merger, count, runId, startAt, reportDir, metricsAddress: observe?.metricsAddress });
  return runCoordinatorView({
    plan,
    connection,
    runId,
    count,
    reportDir,
    merger,
    source,
    stopEndsWait: fromStdin,
    ndjson: values.ndjson === true,
    io,
    observe,
  });
}

/** The coordinator with the CLI's face: live table or NDJSON, signals, the summary; returns the exit code. */
export async function runCoordinatorView(
  options: Omit<CoordinatorOptions, 'stop' | 'hurry' | 'onSnapshot' | 'log'> & {
    ndjson: boolean;
    io: Pick<ShardRunContext['io'], 'stdout' | 'stderr' | 'signal'>;
    observe?: ObserveSettings;
  },
): Promise<number> {
  const { io, runId, count, merger } = options;
  // The coordinator serves the merged view; each shard its own.
  const observers = await Observers.start(options.observe ?? NO_OBSERVERS, 'merged', io.stderr);
  const ended: { exitCode?: number } = {};
  observers.bind(runId, { snapshot: () => merger.latest(), histograms: () => merger.metricHistograms(), exitCode: () => ended.exitCode });
  const view = new ProgressView(io.stdout, io.stderr, options.ndjson);
  const interrupts = watchInterrupts(
    io.stderr,
    {
      stop: 'stopping every shard (each cleans up its users)',
      hurry: 'shards: no more waiting for cleanup',
      cleanupCommand: () => `coder-scaletest cleanup --run-id ${runId}`,
    },
    io.signal,
  );
  let outcome: MergedOutcome;
  try {
    outcome = await coordinate({
      ...options,
      stop: interrupts.stop,
      hurry: interrupts.hurry,
      onSnapshot: (snapshot) => view.snapshot(snapshot),
      log: (line) => io.stderr.write(`${line}\n`),
    });
  } finally {
    interrupts.dispose();
  }
  ended.exitCode = outcome.exitCode;
  view.finish();
  (options.ndjson ? io.stderr : io.stdout).write(mergedSummary(runId, count, outcome));
  await observers.finish({ snapshot: outcome.snapshot, reportDir: options.reportDir });
  return outcome.exitCode;
}

/** Shard messages from one stream (several shards' lines mixed, e.g. kubectl logs -f); anything else is skipped. */
function streamSource(input: NodeJS.ReadableStream, merger: ShardMerger, count: number, stderr: Output): ShardSource {
  let ended = false;
  const lines = readline.createInterface({ input });
  lines.on('line', (line) => {
    const start = line.indexOf('{"type":"shard-');
    if (start < 0) return;
    try {
      merger.accept(parseShardMessage(line.slice(start)));
    } catch (error) {
      stderr.write(`${(error as Error).message}\n`);
    }
  });
  const done = new Promise<void>((resolve) =>
    lines.on('close', () => {
      ended = true;
      for (let index = 0; index < count; index++) merger.lose(index, 'its stream ended without a result');
      resolve();
    }),
  );
  return {
    stop: (why) => stderr.write(`stop the shards (e.g. kubectl delete job): ${why}\n`),
    hurry: () => undefined,
    ended: done,
    lostAreGone: () => ended,
  };
}

function localSource(options: {
  planFile: string;
  connection: DeploymentConnection;
  values: OptionValues;
  io: ShardRunContext['io'];
  merger: ShardMerger;
  count: number;
  runId: string;
  startAt: number;
  reportDir: string;
  /** The coordinator's: shard i serves at the next port + i (none when the coordinator's port is 0). */
  metricsAddress?: string;
}): ShardSource {
  const { planFile, connection, values, io, merger, count, runId, startAt, reportDir } = options;
  const shardMetrics = (index: number): string[] => {
    if (!options.metricsAddress) return [];
    const { host, port } = parseMetricsAddress(options.metricsAddress);
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return ['--metrics-address', `${hostPart}:${port === 0 ? 0 : port + 1 + index}`];
  };
  const { entry, execArgv } = childEntry();
  const passThrough = (['ca-file', 'chromium', 'coder-binary', 'workers'] as const).flatMap((name) => {
    const value = stringOption(values, name);
    return value === undefined ? [] : [`--${name}`, value];
  });
  const shards: LocalShard[] = Array.from({ length: count }, (_, index) => {
    const args = [
      'run',
      planFile,
      '--shard',
      `${index}/${count}`,
      '--run-id',
      runId,
      '--start-at',
      String(startAt),
      '--url',
      connection.url,
      '--out',
      `${reportDir}/shards/${index}`,
      ...passThrough,
      ...shardMetrics(index),
    ];
    if (values.insecure === true) args.push('--insecure');
    // The token goes through the environment, never the command line (visible in `ps`).
    const child = fork(entry, args, {
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...io.env, CODER_SESSION_TOKEN: connection.token },
    });
    io.stderr.write(`shard ${index}/${count} started (pid ${child.pid})\n`);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        merger.accept(parseShardMessage(line));
      } catch (error) {
        io.stderr.write(`shard ${index}: ${(error as Error).message}\n`);
      }
    });
    readline.createInterface({ input: child.stderr! }).on('line', (line) => {
      if (/\] (warn|error):/.test(line) || !line.startsWith('[shard')) io.stderr.write(`${line}\n`);
    });
    const exited = new Promise<void>((resolve) =>
      child.on('exit', (code, signal) => {
        // Its last line may still be in the pipe: give readline a moment before judging the shard lost.
        setTimeout(() => {
          merger.lose(index, signal ? `killed by ${signal}` : `exited with code ${code} before reporting its result`);
          resolve();
        }, 200);
      }),
    );
    return { index, child, exited };
  });
  const stopAll = (why: string) => {
    io.stderr.write(`stopping every shard: ${why}\n`);
    for (const shard of shards) if (shard.child.exitCode === null && shard.child.signalCode === null) shard.child.kill('SIGTERM');
  };
  // A second SIGTERM is a shard's own "stop waiting for cleanup".
  const hurry = () => shards.forEach((shard) => shard.child.kill('SIGTERM'));
  return { stop: stopAll, hurry, ended: Promise.all(shards.map((shard) => shard.exited)).then(() => undefined), lostAreGone: () => true };
}

function mergedSummary(runId: string, count: number, outcome: MergedOutcome): string {
  const lines = [`run ${runId} (${count} shards): ${outcome.verdict.toUpperCase()}${outcome.reason ? ` — ${outcome.reason}` : ''}`];
  for (const threshold of outcome.snapshot.thresholds)
    lines.push(`  ${threshold.verdict.padEnd(7)} ${threshold.expression}  (${threshold.observedText})`);
  for (const { index, why } of outcome.lostShards) lines.push(`  lost    shard ${index}/${count}: ${why}`);
  lines.push(
    `  cleanup: ${outcome.cleanup.deletedWorkspaces} workspaces and ${outcome.cleanup.deletedUsers} users deleted, ${outcome.cleanup.leftovers.length} left`,
  );
  return `${lines.join('\n')}\n`;
}
