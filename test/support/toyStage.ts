// A toy traffic stage, as a plug-in would write one: its descriptor (settings, window, metrics)
// here, its traffic in ./toyStageRunner.ts (a "ping" per user every intervalMs that takes no time
// at all), loaded only when the stage runs.
import { Type, type Static } from '@sinclair/typebox';
import { defineTrafficStage } from '../../src/engine/stages/definition';

const settings = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Run the toy stage.' }),
    intervalMs: Type.Integer({ minimum: 10, default: 50, description: 'Time between pings per user, in ms.' }),
  },
  { additionalProperties: false, default: {}, description: 'Toy traffic.' },
);
export type ToySettings = Static<typeof settings>;

export const toyStage = defineTrafficStage({
  id: 'toy',
  title: 'Toy pings',
  color: 'red',
  defaultWindow: [0, 1],
  metrics: ['latency', 'counters'],
  latencyMeaning: 'ping',
  connectionNoun: 'pingers',
  // Pings need no workspace: prepare makes users only when no other enabled stage needs one.
  prepares: 'users',
  settings,
  load: async () => (require('./toyStageRunner') as typeof import('./toyStageRunner')).toyRunner,
});
