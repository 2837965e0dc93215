// The traffic timeline: runs whatever registered traffic stages the plan enables, each in its
// window (slots from T0), all in parallel. It knows no stage by name: set-up before T0, the
// stage's run in its window, release after the last one.
import type { StageMetrics } from '../metrics/stageMetrics';
import { sleepUntil } from '../common/sleep';
import { stageWindowMs, trafficSettings, type Plan } from '../plan/plan';
import type { StageUser } from '../prepare/prepare';
import type { ReadyStage, StageEnvironment, StageLog, StageResources, TrafficStageDefinition } from '../stages/definition';
import { trafficStages } from '../stages/registry';

export interface TimelineOptions {
  plan: Plan;
  /** The prepared users: with their workspaces when an enabled stage asked prepare for them. */
  users: StageUser[];
  environment: StageEnvironment;
  metricsOf(stageId: string): StageMetrics;
  /** What a stage creates or changes itself, recorded with the run's resources (./stageResources.ts). */
  resourcesOf(stageId: string): StageResources;
  random: () => number;
  log(level: 'info' | 'warn' | 'error', message: string, stageId?: string): void;
  /** Epoch ms of T0 agreed with other shards (default: once every stage is set up). */
  startAt?: number;
  /** Called at T0, once every stage is set up. */
  onStart?(t0: number): void;
}

type Prepared = ReadyStage<unknown, StageUser> | { error: Error };

/** The users a stage gets: those with a ready workspace when it asked prepare for workspaces. */
function usersFor(stage: TrafficStageDefinition, users: StageUser[]): StageUser[] {
  return (stage.prepares ?? 'workspaces') === 'workspaces' ? users.filter((user) => 'workspaceId' in user) : users;
}

export async function runTimeline(options: TimelineOptions): Promise<void> {
  const { plan, environment } = options;
  const stages = trafficStages().filter((stage) => trafficSettings(plan, stage.id)?.enabled);
  const prepared = new Map<string, Prepared>();
  try {
    for (const stage of stages) {
      if (environment.signal.aborted) break;
      prepared.set(stage.id, await setUp(stage, options));
    }
    for (const stage of trafficStages()) if (!stages.includes(stage)) options.metricsOf(stage.id).state = 'skipped';
    const t0 = options.startAt ?? Date.now();
    options.onStart?.(t0);
    await Promise.all(stages.map((stage) => runInWindow(stage, prepared.get(stage.id), t0, options)));
  } finally {
    await Promise.all([...prepared.values()].map((ready) => ('close' in ready ? ready.close?.() : undefined)));
  }
}

function stageLog(options: TimelineOptions, stageId: string): StageLog {
  return (level, message) => options.log(level, message, stageId);
}

/** Loads the stage's runner and sets it up; a failure fails only this stage, at its start. */
async function setUp(stage: TrafficStageDefinition, options: TimelineOptions): Promise<Prepared> {
  const users = usersFor(stage, options.users);
  const context = {
    ...options.environment,
    plan: options.plan,
    settings: trafficSettings(options.plan, stage.id),
    users,
    log: stageLog(options, stage.id),
    resources: options.resourcesOf(stage.id),
  };
  try {
    const runner = await stage.load();
    if (runner.setUp) return (await runner.setUp(context as never)) as ReadyStage<unknown, StageUser>;
    if (!runner.run) throw new Error(`the ${stage.title} stage's runner has neither setUp nor run`);
    return { connections: users.length, run: runner.run as ReadyStage<unknown, StageUser>['run'] };
  } catch (error) {
    return { error: error as Error };
  }
}

async function runInWindow(
  stage: TrafficStageDefinition,
  ready: Prepared | undefined,
  t0: number,
  options: TimelineOptions,
): Promise<void> {
  const { signal } = options.environment;
  const metrics = options.metricsOf(stage.id);
  const log = stageLog(options, stage.id);
  const window = stageWindowMs(options.plan, stage.id);
  await sleepUntil(t0 + window.startMs, signal);
  if (signal.aborted || !ready) return;
  metrics.state = 'running';
  metrics.startedAt = Date.now();
  log('info', `${stage.title} stage started (${'error' in ready ? 0 : ready.connections} ${stage.connectionNoun})`);
  try {
    if ('error' in ready) throw ready.error;
    await ready.run({
      ...options.environment,
      plan: options.plan,
      settings: trafficSettings(options.plan, stage.id),
      users: usersFor(stage, options.users),
      log,
      resources: options.resourcesOf(stage.id),
      metrics,
      endAt: t0 + window.endMs,
      random: options.random,
    });
  } catch (error) {
    metrics.countError('stage');
    metrics.reason = (error as Error).message;
    log('error', `${stage.title} stage failed: ${(error as Error).message}`);
  }
  metrics.state = 'done';
  metrics.endedAt = Date.now();
  log('info', `${stage.title} stage finished`);
}
