// What the echo stages (SSH, web terminal, apps) share as descriptors: their plan settings,
// their metrics, their runner load and reference phase. Each stage's descriptor adds its own
// settings; its runner (./runner.ts here, the stage's own runner.ts for how it opens a
// connection) loads only when the stage runs.
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import type { ChartColor } from '../../../protocol/snapshot';
import type { Plan } from '../../plan/plan';
import { DEFAULT_CONNECTIONS_PER_SECOND, rampProblem, type RampSettings } from './ramp';
import type { PreparedUser } from '../../prepare/prepare';
import { defineTrafficStage, type ReferencePhaseOfStage, type StageRunContext, type TrafficStageDefinition } from '../definition';
import type { Opener } from './transports';

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

/**
 * A runner pod's cost of one echo connection, measured on the engine (issue 9's table, 2 cores,
 * Node 20): RSS 170–260 KiB per web-terminal connection (the upper bound is taken), CPU 24.4 s
 * per 100k echoes for SSH (the costliest kind) at 10 echoes/s ≈ 2.5 mCPU per connection.
 */
export const ECHO_CONNECTION_LOAD = { memoryKiB: 260, milliCpu: 2.5 } as const;

/** Resolves what the stage needs once (the coder CLI, the app host), then one opener per user. */
export type OpenerFactory<Settings> = (context: StageRunContext<Settings>) => Promise<(user: PreparedUser) => Opener>;

export function defineEchoStage<Id extends string, Schema extends TObject>(definition: {
  id: Id;
  title: string;
  color: ChartColor;
  settings: Schema;
  defaultWindow: [number, number];
  /** Default limit on the p95 of opening a connection (e.g. "5s"). */
  connectP95Budget: string;
  referencePhase?: ReferencePhaseOfStage;
  validate?(settings: Static<Schema>, plan: Plan): string[];
  /** What the stage's connections cost beyond the engine's side, e.g. a coder CLI process each (k8s pod sizing). */
  extraLoad?(settings: Static<Schema>, users: number): { memoryMiB: number; milliCpu: number };
  /** Loads how the stage opens its connections (the stage's runner module). */
  loadOpeners(): Promise<OpenerFactory<Static<Schema>>>;
}): TrafficStageDefinition<Id, Schema, 'workspaces'> {
  const { loadOpeners, validate, extraLoad, ...rest } = definition;
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
    prepares: 'workspaces',
    runsOnWorkers: true,
    runnerLoad: (settings, users) => {
      const extra = extraLoad?.(settings, users);
      return {
        memoryMiB: (users * ECHO_CONNECTION_LOAD.memoryKiB) / 1024 + (extra?.memoryMiB ?? 0),
        milliCpu: users * ECHO_CONNECTION_LOAD.milliCpu + (extra?.milliCpu ?? 0),
      };
    },
    async load() {
      const { echoStageRunner } = require('./runner') as typeof import('./runner');
      return echoStageRunner<Static<Schema>>(definition.id, await loadOpeners());
    },
  });
}
