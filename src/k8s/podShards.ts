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
  return new PodShards(options);
}

class PodShards implements ShardSource {
  readonly ended: Promise<void>;
  private readonly shards: PodShard[];
  private readonly jobName: string;
  private tornDownAt?: number;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private resolveEnded!: () => void;

  constructor(private readonly options: PodShardsOptions) {
    this.shards = Array.from({ length: options.count }, (_, index) => ({
      index,
      deleted: false,
      following: false,
      logEnded: false,
      lastLineAt: 0,
      refollows: 0,
    }));
    this.jobName = options.objects.job.metadata!.name!;
    this.ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));
    void this.poll().finally(() => this.schedule());
  }

  stop(why: string): void {
    this.teardown(why);
  }

  hurry(): void {
    this.options.log('no more waiting for the shards: killing their pods now');
    this.teardown('stopped');
    for (const shard of this.shards)
      if (shard.pod && !podGone(shard))
        void this.options.cluster.killPod(shard.pod).catch((error: Error) => this.options.log(error.message));
  }

  lostAreGone(): boolean {
    return this.shards.every((shard) => !this.isLost(shard) || !shard.pod || podGone(shard));
  }

  sweepWholeRun(): boolean {
    return this.tornDownAt !== undefined;
  }

  async close(): Promise<void> {
    this.finish();
    const { cluster, objects, log } = this.options;
    await cluster.deleteRunObjects(objects, { jobDeleted: this.tornDownAt !== undefined });
    log(
      `deleted job ${this.jobName}, configmap ${objects.configMap.metadata!.name} and serviceaccount ${objects.serviceAccount.metadata!.name} from namespace ${cluster.namespace}`,
    );
  }

  private schedule(): void {
    if (!this.closed) this.timer = setTimeout(() => void this.poll().finally(() => this.schedule()), POLL_MS);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const shard of this.shards) shard.stopFollowing?.();
    this.resolveEnded();
  }

  private teardown(why: string): void {
    if (this.tornDownAt !== undefined) return;
    this.tornDownAt = Date.now();
    const { cluster, runId, log } = this.options;
    log(`tearing down run ${runId}: ${why}; deleting job ${this.jobName} (its pods stop and clean up their users)`);
    cluster
      .deleteJob(this.jobName)
      .catch((error: Error) =>
        log(
          `could not delete job ${this.jobName}: ${error.message}; delete it with: kubectl -n ${cluster.namespace} delete job ${this.jobName}`,
        ),
      );
  }

  private isLost(shard: PodShard): boolean {
    return this.options.merger.lostShards().some((lost) => lost.index === shard.index);
  }

  private lose(shard: PodShard, why: string): void {
    if (this.isLost(shard)) return;
    this.options.merger.lose(shard.index, why);
    if (!this.isLost(shard)) return;
    this.options.log(`shard ${shard.index}/${this.options.count} is lost: ${why}`);
    this.teardown(`shard ${shard.index}/${this.options.count} was lost`);
  }

  private onLine(shard: PodShard, line: string): void {
    shard.lastLineAt = Date.now();
    const { merger, log } = this.options;
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
  }

  private follow(shard: PodShard): void {
    if (!shard.pod || shard.following || this.closed) return;
    shard.following = true;
    shard.logEnded = false;
    shard.lastLineAt = Date.now();
    const pod = shard.pod;
    this.options.cluster
      .followLog(
        pod,
        CONTAINER,
        (line) => this.onLine(shard, line),
        () => (shard.logEnded = true),
      )
      .then((stop) => (shard.stopFollowing = stop))
      .catch((error: Error) => {
        shard.logEnded = true;
        this.options.log(`pod ${pod}: ${error.message}`);
      });
  }

  /** Decides, from its pod and its log stream, whether a shard that has not ended is lost. */
  private judge(shard: PodShard, now: number): void {
    if (this.options.merger.shardEnded(shard.index)) return;
    const startDeadline = this.options.startAt + START_GRACE_MS;
    if (!shard.pod) {
      if (this.tornDownAt !== undefined) this.lose(shard, 'the run was torn down before its pod started');
      else if (now > startDeadline) this.lose(shard, `no pod was created for it by ${new Date(startDeadline).toISOString()}`);
      return;
    }
    if (shard.following) return this.judgeFollowed(shard, now);
    if (shard.deleted) this.lose(shard, 'its pod was deleted before it started');
    else if (shard.problem && FATAL_WAITING.has(shard.problem.split(':')[0]!)) this.lose(shard, `its pod cannot start: ${shard.problem}`);
    else if (now > startDeadline)
      this.lose(
        shard,
        `its pod was not running ${START_GRACE_MS / 1000} s after the agreed start (${shard.phase ?? 'no phase'}${shard.problem ? `, ${shard.problem}` : ''})`,
      );
  }

  private judgeFollowed(shard: PodShard, now: number): void {
    const running = shard.phase === 'Running';
    const silent = now - shard.lastLineAt > SILENT_LOG_MS;
    if (shard.logEnded) {
      if (podGone(shard))
        this.lose(
          shard,
          shard.deleted
            ? 'its pod was deleted before the shard reported its result'
            : `its pod ${shard.phase === 'Failed' ? 'failed' : 'ended'}: ${shard.problem ?? 'no reason given'}`,
        );
      else if (running && shard.refollows < MAX_REFOLLOWS) {
        // A log stream can end while the pod runs (an API server restart, a dropped connection): reopen it.
        shard.refollows++;
        shard.following = false;
        this.follow(shard);
      } else if (running) this.lose(shard, `its log stream ended ${MAX_REFOLLOWS + 1} times while the pod ran`);
    } else if (silent && running) {
      // A dropped connection can leave the stream open and silent: end it, to reopen it (old reports are ignored by sequence number).
      shard.stopFollowing?.();
    } else if (silent && podGone(shard)) {
      this.lose(
        shard,
        `its pod ${shard.deleted ? 'was deleted' : 'ended'} and its log said no more: ${shard.problem ?? 'no reason given'}`,
      );
    }
  }

  private async poll(): Promise<void> {
    let pods: V1Pod[];
    try {
      pods = await this.options.cluster.listPods(`coder-scaletest/run-id=${this.options.runId}`);
    } catch (error) {
      this.options.log(`${(error as Error).message} (retrying)`);
      return;
    }
    const now = Date.now();
    const seen = new Set<number>();
    for (const pod of pods) {
      const index = Number(pod.metadata?.annotations?.[INDEX_ANNOTATION] ?? pod.metadata?.labels?.[INDEX_ANNOTATION]);
      const shard = this.shards[index];
      // A replacement pod for an index (the Job controller's) is not followed: that shard is already settled or lost.
      if (!shard || (shard.pod && shard.pod !== pod.metadata?.name)) continue;
      seen.add(index);
      shard.pod = pod.metadata!.name!;
      shard.phase = pod.status?.phase;
      shard.problem = podProblem(pod);
      if (shard.phase === 'Running' || shard.phase === 'Succeeded' || shard.phase === 'Failed') this.follow(shard);
    }
    for (const shard of this.shards) if (shard.pod && !seen.has(shard.index)) shard.deleted = true;
    for (const shard of this.shards) this.judge(shard, now);
    const allGone = this.shards.every((shard) => !shard.pod || podGone(shard));
    const settled = this.shards.every((shard) => this.options.merger.shardEnded(shard.index));
    if (settled && (this.tornDownAt === undefined || allGone || now - this.tornDownAt > TEARDOWN_WAIT_MS)) this.finish();
  }
}

function podGone(shard: PodShard): boolean {
  return shard.deleted || shard.phase === 'Succeeded' || shard.phase === 'Failed';
}
