// What the echo stages (SSH, web terminal, apps) share: their plan settings, their metrics and
// the echo traffic itself; each stage file adds only how it opens a connection.
import { Type, type TObject, type TProperties } from '@sinclair/typebox';
import type { ChartColor } from '../../../protocol/snapshot';
import { runEchoStage } from './runner';
import type { Plan } from '../../plan/plan';
import { DEFAULT_CONNECTIONS_PER_SECOND, rampProblem, type RampSettings } from './ramp';
import type { PreparedUser } from '../../prepare/prepare';
import type { Opener } from './transports';
import { echoWorkerCount, EchoWorkerSet, workersUnavailable } from '../../workers/coordinator';
import { defineTrafficStage, type StageRunContext, type TrafficStageDefinition } from '../definition';

/** Plan settings of every echo stage; a stage adds its own fields beside them. */
export function echoSettings<Extra extends TProperties>(title: string, extra: Extra) {
  return Type.Object(
    {
      enabled: Type.Boolean({ default: true, description: `Run the ${title} stage.` }),
      bytesPerTick: Type.Integer({
        // 8 sequence digits, ':', at least one random byte and the newline (src/engine/stages/echo/session.ts).
        minimum: 11,
        maximum: 32768,
        default: 1024,
        description: 'Bytes written per connection on every tick (reference: 1024).',
      }),
      tickIntervalMs: Type.Integer({
        minimum: 10,
        maximum: 60000,
        default: 100,
        description: 'Interval between ticks on each connection, in ms (reference: 100).',
      }),
      connectionsPerSecond: Type.Optional(
        Type.Number({
          exclusiveMinimum: 0,
          maximum: 100000,
          description:
            `The planned ramp: connections opened per second from the window's start, connection i at i ÷ rate; its ticks start from that planned time. ` +
            `Default (neither this nor rampSeconds): ${DEFAULT_CONNECTIONS_PER_SECOND}/s, 2000 users in 40 s. Set one of the two.`,
        }),
      ),
      rampSeconds: Type.Optional(
        Type.Number({
          minimum: 0,
          maximum: 86400,
          description:
            "The planned ramp as a length: every connection opened within this many seconds of the window's start, evenly; 0 opens all at once (as Coder's runner does). Set this or connectionsPerSecond.",
        }),
      ),
      ...extra,
    },
    { additionalProperties: false, default: {}, description: `${title} traffic: one echo connection per workspace.` },
  );
}

export interface EchoSettings extends RampSettings {
  enabled: boolean;
  bytesPerTick: number;
  tickIntervalMs: number;
}

export function defineEchoStage<Id extends string, Schema extends TObject>(definition: {
  id: Id;
  title: string;
  color: ChartColor;
  settings: Schema;
  defaultWindow: [number, number];
  /** Default limit on the p95 of opening a connection (e.g. "5s"). */
  connectP95Budget: string;
  validate?(settings: Schema['static'], plan: Plan): string[];
  /** Resolves what the stage needs once (the coder CLI, the app host), then one opener per user. */
  openers(context: StageRunContext<Schema['static']>): Promise<(user: PreparedUser) => Opener>;
}): TrafficStageDefinition<Id, Schema> {
  const { openers, validate, ...rest } = definition;
  return defineTrafficStage({
    ...rest,
    validate: (settings, plan) => {
      const [start, end] = (plan.timeline as unknown as Record<string, [number, number]>)[definition.id];
      const windowMs = (end - start) * plan.timeline.slotSeconds * 1000;
      const ramp = rampProblem(settings as RampSettings, plan.users, windowMs, `traffic.${definition.id}`);
      return [...(ramp ? [ramp] : []), ...(validate?.(settings, plan) ?? [])];
    },
    metrics: ['latency', 'connect', 'counters', 'throughput'],
    latencyMeaning: 'echo round trip',
    connectionNoun: 'connections',
    runsOnWorkers: true,
    // Worker threads (plan.workers) boot here, before T0: their start-up is not traffic time.
    async setUp(context) {
      const run = (workers?: EchoWorkerSet) => (runContext: StageRunContext<Schema['static']>) =>
        runEchoStage({
          ...runContext,
          settings: runContext.settings as unknown as EchoSettings,
          openers: () => openers(runContext),
          workers,
        });
      const count = echoWorkerCount(context.plan.workers, context.users.length);
      const unavailable = count > 1 ? workersUnavailable(context.connection) : undefined;
      if (unavailable) context.log('info', `connections on the main thread: ${unavailable}`);
      if (count <= 1 || unavailable) return { connections: context.users.length, run: run() };
      // What the stage resolves once (the coder CLI, the app host) first, so no worker races for it.
      await openers(context as StageRunContext<Schema['static']>);
      const workers = await EchoWorkerSet.boot({ ...context, stageId: definition.id, random: Math.random }, count);
      return { connections: context.users.length, run: run(workers), close: () => workers.close() };
    },
  });
}
