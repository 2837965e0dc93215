// The shards of a `k8s run` as the coordinator sees them: the pods of the run's Indexed Job.
// Each pod's log is the shard's message stream (docs/shard-message.md), fed into the same merger
// as local shards. A pod that is deleted, fails, cannot start, or whose log ends without the
// shard's result line is a lost shard; any lost shard, an abort or the merged view's abort
// tears the run down: the Job is deleted (its pods get SIGTERM, so each shard stops traffic and
// cleans up its users), and once the pods are gone the coordinator sweeps the whole run by id.
import type { V1Pod } from '@kubernetes/client-node';
import type { ShardSource } from '../shard/coordinator';
import type { ShardMerger } from '../shard/merge';
import { parseShardMessage } from '../shard/message';
import type { Cluster, RunObjects } from './cluster';

/** How often the run's pods are listed. */
const POLL_MS = 1500;
/** A pod not running this long after the agreed start is lost (its share of the traffic is missing anyway). */
const START_GRACE_MS = 60_000;
/** A log stream silent this long while its pod runs is reopened (shards report every second). */
const SILENT_LOG_MS = 20_000;
/** After a teardown, how long to wait for the pods to be gone (their grace period, then a margin). */
const TEARDOWN_WAIT_MS = 120_000;
/** How many times a log stream that ended while its pod still runs is reopened. */
const MAX_REFOLLOWS = 3;
/** Waiting reasons a pod never recovers from (restartPolicy Never, backoffLimit 0). */
const FATAL_WAITING = new Set(['CreateContainerConfigError', 'CreateContainerError', 'InvalidImageName', 'ErrImageNeverPull']);
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
const CONTAINER = 'shard';

interface PodShard {
  index: number;
  pod?: string;
  phase?: string;
  /** Why the pod cannot or did not run its shard, from its status. */
  problem?: string;
  deleted: boolean;
  following: boolean;
  logEnded: boolean;
  lastLineAt: number;
  refollows: number;
  stopFollowing?: () => void;
}

export interface PodShardsOptions {
  cluster: Cluster;
  objects: RunObjects;
  merger: ShardMerger;
  runId: string;
  count: number;
  startAt: number;
  log(line: string): void;
}

function podProblem(pod: V1Pod): string | undefined {
  const status = pod.status?.containerStatuses?.find((container) => container.name === CONTAINER);
  const terminated = status?.state?.terminated;
  if (terminated) return `its container exited with code ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`;
  const waiting = status?.state?.waiting;
  if (waiting?.reason && waiting.reason !== 'ContainerCreating') return `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
  const unscheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled' && condition.status === 'False');
  if (unscheduled) return `not scheduled: ${unscheduled.message ?? unscheduled.reason ?? 'no reason given'}`;
  return pod.status?.reason ? `${pod.status.reason}${pod.status.message ? `: ${pod.status.message}` : ''}` : undefined;
}

/** Starts following the run's pods (the objects already exist); the coordinator drives the rest. */
export function podShardSource(options: PodShardsOptions): ShardSource {
  const { cluster, objects, merger, runId, count, log } = options;
  const shards: PodShard[] = Array.from({ length: count }, (_, index) => ({ index, deleted: false, following: false, logEnded: false, lastLineAt: 0, refollows: 0 }));
  const jobName = objects.job.metadata!.name!;
  const selector = `coder-scaletest/run-id=${runId}`;
  let tornDownAt: number | undefined;
  let closed = false;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));

  const teardown = (why: string) => {
    if (tornDownAt !== undefined) return;
    tornDownAt = Date.now();
    log(`tearing down run ${runId}: ${why}; deleting job ${jobName} (its pods stop and clean up their users)`);
    cluster.deleteJob(jobName).catch((error: Error) => log(`could not delete job ${jobName}: ${error.message}; delete it with: kubectl -n ${cluster.namespace} delete job ${jobName}`));
  };

  const lose = (shard: PodShard, why: string) => {
    if (merger.lostShards().some((lost) => lost.index === shard.index)) return;
    merger.lose(shard.index, why);
    if (merger.lostShards().some((lost) => lost.index === shard.index)) {
      log(`shard ${shard.index}/${count} is lost: ${why}`);
      teardown(`shard ${shard.index}/${count} was lost`);
    }
  };

  const onLine = (shard: PodShard, line: string) => {
    shard.lastLineAt = Date.now();
    const start = line.indexOf('{"type":"shard-');
    if (start < 0) {
      // The shard's own warnings and errors (its log on stderr); the rest stays in the pod's log.
      if (/\] (warn|error):|^error:/.test(line)) log(`pod ${shard.pod}: ${line}`);
      return;
    }
    try {
      if (!merger.accept(parseShardMessage(line.slice(start))) && merger.rejected) log(merger.rejected);
    } catch (error) {
      log(`pod ${shard.pod}: ${(error as Error).message}`);
    }
  };

  const follow = (shard: PodShard) => {
    if (!shard.pod || shard.following || closed) return;
    shard.following = true;
    shard.logEnded = false;
    shard.lastLineAt = Date.now();
    const pod = shard.pod;
    cluster
      .followLog(pod, CONTAINER, (line) => onLine(shard, line), () => (shard.logEnded = true))
      .then((stop) => (shard.stopFollowing = stop))
      .catch((error: Error) => {
        shard.logEnded = true;
        log(`pod ${pod}: ${error.message}`);
      });
  };

  const settled = (shard: PodShard) => merger.shardEnded(shard.index);
  const podGone = (shard: PodShard) => shard.deleted || shard.phase === 'Succeeded' || shard.phase === 'Failed';

  const judge = (shard: PodShard, now: number) => {
    if (settled(shard)) return;
    if (!shard.pod) {
      if (tornDownAt !== undefined) lose(shard, 'the run was torn down before its pod started');
      else if (now > options.startAt + START_GRACE_MS) lose(shard, `no pod was created for it by ${new Date(options.startAt + START_GRACE_MS).toISOString()}`);
      return;
    }
    const running = shard.phase === 'Running';
    if (shard.following && shard.logEnded) {
      if (podGone(shard)) lose(shard, shard.deleted ? 'its pod was deleted before the shard reported its result' : `its pod ${shard.phase === 'Failed' ? 'failed' : 'ended'}: ${shard.problem ?? 'no reason given'}`);
      else if (running && shard.refollows < MAX_REFOLLOWS) {
        shard.refollows++;
        shard.following = false;
        follow(shard);
      } else if (running) lose(shard, `its log stream ended ${MAX_REFOLLOWS + 1} times while the pod ran`);
      return;
    }
    if (shard.following && running && now - shard.lastLineAt > SILENT_LOG_MS) {
      // A dropped connection can leave the stream open and silent: reopen it (old reports are ignored by sequence number).
      shard.stopFollowing?.();
      return;
    }
    if (shard.following && podGone(shard) && now - shard.lastLineAt > SILENT_LOG_MS) lose(shard, `its pod ${shard.deleted ? 'was deleted' : 'ended'} and its log said no more: ${shard.problem ?? 'no reason given'}`);
    if (!shard.following && shard.deleted) lose(shard, 'its pod was deleted before it started');
    if (!shard.following && shard.problem && FATAL_WAITING.has(shard.problem.split(':')[0]!)) lose(shard, `its pod cannot start: ${shard.problem}`);
    if (!shard.following && now > options.startAt + START_GRACE_MS) lose(shard, `its pod was not running ${START_GRACE_MS / 1000} s after the agreed start (${shard.phase ?? 'no phase'}${shard.problem ? `, ${shard.problem}` : ''})`);
  };

  const poll = async () => {
    let pods: V1Pod[];
    try {
      pods = await cluster.listPods(selector);
    } catch (error) {
      log(`${(error as Error).message} (retrying)`);
      return;
    }
    const now = Date.now();
    const seen = new Set<number>();
    for (const pod of pods) {
      const index = Number(pod.metadata?.annotations?.[INDEX_ANNOTATION] ?? pod.metadata?.labels?.[INDEX_ANNOTATION]);
      const shard = shards[index];
      // A replacement pod for an index (the Job controller's) is not followed: that shard is already settled or lost.
      if (!shard || (shard.pod && shard.pod !== pod.metadata?.name)) continue;
      seen.add(index);
      shard.pod = pod.metadata!.name!;
      shard.phase = pod.status?.phase;
      shard.problem = podProblem(pod);
      if (shard.phase === 'Running' || shard.phase === 'Succeeded' || shard.phase === 'Failed') follow(shard);
    }
    for (const shard of shards) if (shard.pod && !seen.has(shard.index)) shard.deleted = true;
    for (const shard of shards) judge(shard, now);
    const allGone = shards.every((shard) => !shard.pod || podGone(shard));
    const everyShardSettled = shards.every(settled);
    if (everyShardSettled && (tornDownAt === undefined || allGone || now - tornDownAt > TEARDOWN_WAIT_MS)) finish();
  };

  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    timer = setTimeout(() => void poll().finally(() => !closed && loop()), POLL_MS);
  };
  const finish = () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    for (const shard of shards) shard.stopFollowing?.();
    resolveEnded();
  };
  void poll().finally(() => !closed && loop());

  return {
    stop: (why) => teardown(why),
    hurry: () => {
      log('no more waiting for the shards: killing their pods now');
      teardown('stopped');
      for (const shard of shards) if (shard.pod && !podGone(shard)) void cluster.killPod(shard.pod).catch((error: Error) => log(error.message));
    },
    ended,
    lostAreGone: () => shards.every((shard) => !merger.lostShards().some((lost) => lost.index === shard.index) || !shard.pod || podGone(shard)),
    sweepWholeRun: () => tornDownAt !== undefined,
    close: async () => {
      finish();
      await cluster.deleteRunObjects(objects, { jobDeleted: tornDownAt !== undefined });
      log(`deleted job ${jobName}, configmap ${objects.configMap.metadata!.name} and serviceaccount ${objects.serviceAccount.metadata!.name} from namespace ${cluster.namespace}`);
    },
  };
}
