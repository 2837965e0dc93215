// Sharded runs from the command line:
//   run PLAN --shard I/N --run-id ID [--start-at MS]   one shard: its share of the users, shard
//                                                        messages (NDJSON) on stdout
//   run PLAN --shards N --local                         the coordinator: N shard processes here,
//                                                        merged through the same path as a cluster
import { fork, type ChildProcess } from 'child_process';
import * as readline from 'readline';
import type { DeploymentConnection } from '../coder/connection';
import { cleanupRun, startRun, type Plan } from '../engine';
import { checkRunId, newRunId } from '../engine/naming';
import { EXIT_CODES } from '../engine/outcome';
import { timelineMs } from '../engine/plan';
import { childEntry } from '../sim/process';
import { ShardMerger, type MergedOutcome } from '../shard/merge';
import { encodeShardMessage, parseShardMessage, parseShardSpec } from '../shard/message';
import { ShardReporter, type ShardEventLine } from '../shard/producer';
import { writeMergedReports } from '../shard/report';
import { stringOption, UsageError, wholeNumberOption, type OptionSpec, type OptionValues } from './args';
import { watchInterrupts } from './interrupts';
import { ProgressView, type Output } from './progress';

export const SHARD_RUN_OPTIONS: OptionSpec[] = [
  { flags: '--shard <I/N>', help: 'run as shard I of N: only users i with i mod N = I; writes shard messages (docs/shard-message.md)', expects: 'I/N, e.g. 0/3' },
  { flags: '--run-id <ID>', help: 'with --shard: the run id all shards share (with --shards: default a new one)', expects: 'a run id: 4-12 lowercase letters or digits, starting with a letter' },
  { flags: '--start-at <MS>', help: 'with --shard: epoch milliseconds of traffic T0, agreed by every shard (default: when prepare ends)', expects: 'epoch milliseconds' },
  { flags: '--shard-output <FORMAT>', help: 'with --shard: ndjson (the default; one shard message per line on stdout)', expects: 'ndjson' },
  { flags: '--shards <N>', help: 'with --local: run N shard processes on this machine and merge them into one run', expects: 'a whole number of shards from 1 to 64' },
  { flags: '--local', help: 'with --shards: the shards are processes on this machine' },
  {
    flags: '--stdin',
    help: 'with --shards and --run-id: merge shard messages read from stdin (e.g. kubectl logs -f of the pods); other lines are skipped',
  },
  { flags: '--start-delay <S>', help: 'with --shards: seconds from launch to the agreed traffic start, time for every shard to prepare (default: 20)', expects: 'seconds, 1 to 3600' },
];

export interface ShardRunContext {
  plan: Plan;
  planFile: string;
  connection: DeploymentConnection;
  out: string;
  values: OptionValues;
  io: { stdout: Output; stderr: Output; env: NodeJS.ProcessEnv; signal?: AbortSignal; stdin?: NodeJS.ReadableStream };
}

/** Whether `values` ask for a sharded run (then runShardedCommand handles it). */
export function isShardedRun(values: OptionValues): boolean {
  return values.shard !== undefined || values.shards !== undefined || values.local === true || values.stdin === true;
}

export async function runShardedCommand(context: ShardRunContext): Promise<number> {
  const { values } = context;
  if (values.shard !== undefined && values.shards !== undefined) throw new UsageError('--shard (be one shard) and --shards (coordinate N shards) exclude each other', 'run');
  if (values.shard !== undefined) return runOneShard(context);
  if (values.local !== true && values.stdin !== true) {
    throw new UsageError('--shards N needs --local (shard processes on this machine) or --stdin (merge the messages of shards running elsewhere)', 'run');
  }
  if (values.shards === undefined) throw new UsageError(`--${values.local === true ? 'local' : 'stdin'} needs --shards N`, 'run');
  if (values.stdin === true && stringOption(values, 'run-id') === undefined) throw new UsageError('--stdin needs --run-id: the run id the shards were started with', 'run');
  return coordinateShards(context);
}

function parseStartAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < 1e12) throw new UsageError(`--start-at ${text}: expected epoch milliseconds (e.g. ${Date.now() + 60_000})`, 'run');
  return ms;
}

/** A shard never aborts on its own judgement: the coordinator judges the merged view and stops every shard. */
function shardPlan(plan: Plan): Plan {
  return { ...plan, thresholds: plan.thresholds.map((threshold) => ({ ...threshold, abortOnFail: false })) };
}

async function runOneShard({ plan, connection, out, values, io }: ShardRunContext): Promise<number> {
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
  const interrupts = watchInterrupts(io.stderr, { stop: `shard ${shard.index}/${shard.count}: stopping traffic and cleaning up its users`, hurry: 'no more waiting for cleanup', cleanupCommand: () => `coder-scaletest cleanup --run-id ${runId}` }, io.signal);
  try {
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
    const emit = (snapshot: ReturnType<typeof handle.latest>) => {
      io.stdout.write(`${encodeShardMessage(reporter.report(snapshot, handle.histograms(), pending.splice(0)))}\n`);
    };
    handle.subscribe(emit);
    const result = await handle.done;
    // The complete final state (cleanup included) before the result line.
    emit(result.snapshot);
    io.stdout.write(
      `${encodeShardMessage(reporter.result({ exitCode: result.exitCode, status: result.snapshot.status, reason: result.snapshot.reason, cleanup: result.cleanup }))}\n`,
    );
    return result.exitCode;
  } finally {
    interrupts.dispose();
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

/** Where the coordinator's shard messages come from: local processes, or a stream of them. */
interface ShardSource {
  /** Asks every shard to stop (each then cleans up its users). */
  stop(why: string): void;
  /** A second stop: shards stop waiting for their cleanup. */
  hurry(): void;
  /** Settles once every shard has ended (its result, or lost). */
  ended: Promise<void>;
  /** Whether the coordinator may delete a lost shard's users (it cannot be running any more). */
  lostAreGone(): boolean;
}

async function coordinateShards({ plan, planFile, connection, out, values, io }: ShardRunContext): Promise<number> {
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
  const merger = new ShardMerger({
    runId,
    planName: plan.name,
    deploymentUrl: connection.url,
    shardCount: count,
    thresholds: plan.thresholds,
    timelineMs: timelineMs(plan),
    slotMs: plan.timeline.slotSeconds * 1000,
    reportDir,
  });
  const ndjson = values.ndjson === true;
  const view = new ProgressView(io.stdout, io.stderr, ndjson);
  const fromStdin = values.stdin === true;
  io.stderr.write(
    fromStdin
      ? `run ${runId}: merging ${count} shards' messages from stdin\n`
      : `run ${runId}: ${count} local shards, traffic starts at ${new Date(startAt).toISOString()}\n`,
  );
  const source = fromStdin
    ? streamSource(io.stdin ?? process.stdin, merger, count, io.stderr)
    : localSource({ planFile, connection, values, io, merger, count, runId, startAt, reportDir });
  let userAborted = false;
  const interrupts = watchInterrupts(io.stderr, { stop: 'stopping every shard (each cleans up its users)', hurry: 'shards: no more waiting for cleanup', cleanupCommand: () => `coder-scaletest cleanup --run-id ${runId}` }, io.signal);
  interrupts.stop.addEventListener('abort', () => {
    userAborted = true;
    source.stop('stopped by the user');
  });
  interrupts.hurry.addEventListener('abort', () => source.hurry());
  let abortedByThreshold = false;
  const ticker = setInterval(() => {
    const snapshot = merger.snapshot();
    view.snapshot(snapshot);
    const abort = !abortedByThreshold && merger.abortReason();
    if (abort) {
      abortedByThreshold = true;
      source.stop(abort);
    }
  }, 1000);
  try {
    await Promise.race([source.ended, fromStdin ? new Promise((resolve) => interrupts.stop.addEventListener('abort', resolve)) : source.ended]);
  } finally {
    clearInterval(ticker);
    interrupts.dispose();
  }
  // A lost shard cleaned up nothing: its users (and only its users) are deleted here, once it cannot be running.
  const lostCleanup = source.lostAreGone() ? await cleanUpLostShards(merger, { connection, runId, count, io }) : { deletedUsers: 0, deletedWorkspaces: 0, leftovers: [] };
  if (!source.lostAreGone() && !merger.ended()) {
    for (let index = 0; index < count; index++) merger.lose(index, 'still running when the coordinator stopped');
    io.stderr.write(`shards still running were not cleaned up; once they have stopped: coder-scaletest cleanup --run-id ${runId}\n`);
  }
  const outcome = merger.finish({ aborted: userAborted });
  outcome.cleanup.deletedUsers += lostCleanup.deletedUsers;
  outcome.cleanup.deletedWorkspaces += lostCleanup.deletedWorkspaces;
  outcome.cleanup.leftovers.push(...lostCleanup.leftovers);
  if (lostCleanup.leftovers.length > 0) {
    outcome.verdict = 'fail';
    outcome.snapshot.verdict = 'fail';
    if (outcome.exit === 'passed') Object.assign(outcome, { exit: 'failed', exitCode: EXIT_CODES.failed });
    outcome.reason = [outcome.reason, `the lost shards' cleanup left ${lostCleanup.leftovers.length} resource(s) behind; remove them with: coder-scaletest cleanup --run-id ${runId}`].filter(Boolean).join('; ');
    outcome.snapshot.reason = outcome.reason;
  }
  view.snapshot(outcome.snapshot);
  view.finish();
  await writeMergedReport(reportDir, plan, merger, outcome, io.stderr);
  (ndjson ? io.stderr : io.stdout).write(mergedSummary(runId, count, outcome));
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
}): ShardSource {
  const { planFile, connection, values, io, merger, count, runId, startAt, reportDir } = options;
  const { entry, execArgv } = childEntry();
  const passThrough = (['ca-file', 'chromium', 'coder-binary'] as const).flatMap((name) => {
    const value = stringOption(values, name);
    return value === undefined ? [] : [`--${name}`, value];
  });
  const shards: LocalShard[] = Array.from({ length: count }, (_, index) => {
    const args = ['run', planFile, '--shard', `${index}/${count}`, '--run-id', runId, '--start-at', String(startAt), '--url', connection.url, '--out', `${reportDir}/shards/${index}`, ...passThrough];
    if (values.insecure === true) args.push('--insecure');
    // The token goes through the environment, never the command line (visible in `ps`).
    const child = fork(entry, args, { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...io.env, CODER_SESSION_TOKEN: connection.token } });
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

async function cleanUpLostShards(
  merger: ShardMerger,
  { connection, runId, count, io }: { connection: DeploymentConnection; runId: string; count: number; io: { stderr: Output } },
): Promise<{ deletedUsers: number; deletedWorkspaces: number; leftovers: string[] }> {
  const total = { deletedUsers: 0, deletedWorkspaces: 0, leftovers: [] as string[] };
  for (const { index } of merger.lostShards()) {
    io.stderr.write(`shard ${index}/${count} was lost: deleting its users and workspaces\n`);
    try {
      const outcome = await cleanupRun({ connection, runId, share: { index, count }, log: (level, message) => io.stderr.write(`[cleanup shard ${index}] ${level}: ${message}\n`) });
      total.deletedUsers += outcome.deletedUsers;
      total.deletedWorkspaces += outcome.deletedWorkspaces;
      total.leftovers.push(...outcome.leftovers);
    } catch (error) {
      total.leftovers.push(`shard ${index}'s resources (cleanup failed: ${(error as Error).message})`);
    }
  }
  return total;
}

async function writeMergedReport(reportDir: string, plan: Plan, merger: ShardMerger, outcome: MergedOutcome, stderr: Output): Promise<void> {
  try {
    await writeMergedReports({ dir: reportDir, plan, merger, outcome });
    stderr.write(`reports written to ${reportDir}\n`);
  } catch (error) {
    stderr.write(`could not write the reports to ${reportDir}: ${(error as Error).message}\n`);
  }
}

function mergedSummary(runId: string, count: number, outcome: MergedOutcome): string {
  const lines = [`run ${runId} (${count} shards): ${outcome.verdict.toUpperCase()}${outcome.reason ? ` — ${outcome.reason}` : ''}`];
  for (const threshold of outcome.snapshot.thresholds) lines.push(`  ${threshold.verdict.padEnd(7)} ${threshold.expression}  (${threshold.observedText})`);
  for (const { index, why } of outcome.lostShards) lines.push(`  lost    shard ${index}/${count}: ${why}`);
  lines.push(`  cleanup: ${outcome.cleanup.deletedWorkspaces} workspaces and ${outcome.cleanup.deletedUsers} users deleted, ${outcome.cleanup.leftovers.length} left`);
  return `${lines.join('\n')}\n`;
}
