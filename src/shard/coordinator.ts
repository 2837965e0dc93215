// The coordinator's loop, whatever runs the shards (local processes, a stream of their messages,
// Kubernetes pods): one merged snapshot a second, the merged thresholds' abort, the wait for every
// shard to end, the cleanup of what lost shards left, the final judgement and the reports.
import * as path from 'path';
import type { DeploymentConnection } from '../coder/connection';
import { baselineForRun } from '../engine/baseline/store';
import { cleanupRun } from '../engine/cleanup/cleanup';
import { timelineMs, type Plan } from '../engine/plan/plan';
import type { RunSnapshot } from '../protocol/snapshot';
import { referenceSettingsOf } from '../engine/reference/collector';
import { ShardMerger, type CleanupTotal, type MergedOutcome } from './merge';
import { writeMergedReports } from './report';

/** Where the coordinator's shard messages come from: local processes, a stream, or pods. */
export interface ShardSource {
  /** Asks every shard to stop (each then cleans up its users). */
  stop(why: string): void;
  /** A second stop: shards stop waiting for their cleanup. */
  hurry(): void;
  /** Settles once every shard has ended (its result, or lost). */
  ended: Promise<void>;
  /** Whether the coordinator may delete a lost shard's users (it cannot be running any more). */
  lostAreGone(): boolean;
  /**
   * After a teardown (abort, a lost shard, a failure), whether the coordinator sweeps the whole
   * run by its id (as `cleanup --run-id` does) rather than only the lost shards' users.
   */
  sweepWholeRun?(): boolean;
  /** Releases what the source created for the run (e.g. Kubernetes objects), once it is over. */
  close?(): Promise<void>;
}

export interface CoordinatorOptions {
  plan: Plan;
  connection: DeploymentConnection;
  runId: string;
  count: number;
  reportDir: string;
  merger: ShardMerger;
  source: ShardSource;
  /** The user's stop (first signal) and hurry (second signal). */
  stop: AbortSignal;
  hurry: AbortSignal;
  /** Whether a stop ends the wait at once (a stream the coordinator cannot stop) rather than when the shards have ended. */
  stopEndsWait?: boolean;
  onSnapshot(snapshot: RunSnapshot): void;
  log(line: string): void;
}

export function newShardMerger(plan: Plan, connection: DeploymentConnection, runId: string, count: number, reportDir: string): ShardMerger {
  return new ShardMerger({
    runId,
    planName: plan.name,
    deploymentUrl: connection.url,
    shardCount: count,
    thresholds: plan.thresholds,
    timelineMs: timelineMs(plan),
    slotMs: plan.timeline.slotSeconds * 1000,
    reportDir,
    // Reports go to <out>/<runId>: the baseline is in <out>/baselines/, as for a local run.
    baseline: baselineForRun(path.dirname(reportDir), plan),
    // The runner machines are the shards' (pods, processes), not this one: that row says so.
    reference: referenceSettingsOf(plan, null),
  });
}

/** Runs the merge until every shard has ended; returns the merged outcome (the reports are written). */
export async function coordinate(options: CoordinatorOptions): Promise<MergedOutcome> {
  const { merger, source, stop, runId, count, log } = options;
  const onStop = () => source.stop('stopped by the user');
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  const onHurry = () => source.hurry();
  options.hurry.addEventListener('abort', onHurry, { once: true });
  let abortedByThreshold = false;
  const ticker = setInterval(() => {
    options.onSnapshot(merger.snapshot());
    const abort = !abortedByThreshold && merger.abortReason();
    if (abort) {
      abortedByThreshold = true;
      source.stop(abort);
    }
  }, 1000);
  try {
    const stopped = new Promise<void>((resolve) =>
      stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true }),
    );
    await Promise.race([source.ended, options.stopEndsWait ? stopped : source.ended]);
  } finally {
    clearInterval(ticker);
    stop.removeEventListener('abort', onStop);
    options.hurry.removeEventListener('abort', onHurry);
  }
  const sweep = source.lostAreGone() && source.sweepWholeRun?.() === true;
  // A lost shard cleaned up nothing: its users (and only its users) are deleted here, once it cannot be running.
  const lostCleanup = !source.lostAreGone()
    ? { deletedUsers: 0, deletedWorkspaces: 0, leftovers: [] }
    : sweep
      ? await sweepRun(options)
      : await cleanUpLostShards(options);
  if (!source.lostAreGone() && !merger.ended()) {
    for (let index = 0; index < count; index++) merger.lose(index, 'still running when the coordinator stopped');
    log(`shards still running were not cleaned up; once they have stopped: coder-scaletest cleanup --run-id ${runId}`);
  }
  await source.close?.().catch((error: Error) => log(`could not remove the run's objects: ${error.message}`));
  const outcome = merger.finish({
    aborted: stop.aborted,
    thresholdAbort: abortedByThreshold ? merger.abortReason() : undefined,
    extraCleanup: lostCleanup,
  });
  if (lostCleanup.leftovers.length > 0)
    log(
      `${sweep ? "the run's final sweep" : "the lost shards' cleanup"} left ${lostCleanup.leftovers.length} resource(s) behind; remove them with: coder-scaletest cleanup --run-id ${runId}`,
    );
  options.onSnapshot(outcome.snapshot);
  try {
    await writeMergedReports({ dir: options.reportDir, plan: options.plan, merger, outcome });
    log(`reports written to ${options.reportDir}`);
  } catch (error) {
    log(`could not write the reports to ${options.reportDir}: ${(error as Error).message}`);
  }
  return outcome;
}

async function cleanUpLostShards({ merger, connection, runId, count, reportDir, log }: CoordinatorOptions): Promise<CleanupTotal> {
  const total: CleanupTotal = { deletedUsers: 0, deletedWorkspaces: 0, leftovers: [] };
  for (const { index } of merger.lostShards()) {
    log(`shard ${index}/${count} was lost: deleting its users and workspaces`);
    try {
      const outcome = await cleanupRun({
        connection,
        runId,
        // Local shards keep their journals under the run's directory; pods' are gone with them.
        runDir: reportDir,
        share: { index, count },
        log: (level, message) => log(`[cleanup shard ${index}] ${level}: ${message}`),
      });
      total.deletedUsers += outcome.deletedUsers;
      total.deletedWorkspaces += outcome.deletedWorkspaces;
      total.leftovers.push(...outcome.leftovers);
    } catch (error) {
      total.leftovers.push(`shard ${index}'s resources (cleanup failed: ${(error as Error).message})`);
    }
  }
  return total;
}

/** Every shard's users and workspaces, by the run id (what `cleanup --run-id` removes): after a teardown. */
async function sweepRun({ connection, runId, reportDir, log }: CoordinatorOptions): Promise<CleanupTotal> {
  log(`run ${runId} was torn down: deleting what is left of every shard's users and workspaces`);
  try {
    const outcome = await cleanupRun({
      connection,
      runId,
      runDir: reportDir,
      log: (level, message) => log(`[cleanup] ${level}: ${message}`),
    });
    return { deletedUsers: outcome.deletedUsers, deletedWorkspaces: outcome.deletedWorkspaces, leftovers: outcome.leftovers };
  } catch (error) {
    return { deletedUsers: 0, deletedWorkspaces: 0, leftovers: [`run ${runId}'s resources (cleanup failed: ${(error as Error).message})`] };
  }
}
