// A toy traffic stage, as a plug-in would write one: its settings, its window, its metrics and
// its traffic (here: a "ping" per user every intervalMs that takes no time at all).
import { Type } from '@sinclair/typebox';
import { sleepUntil } from '../../src/engine/stages/echo/runner';
import { defineTrafficStage } from '../../src/engine/stages/definition';

export const toyStage = defineTrafficStage({
  id: 'toy',
  title: 'Toy pings',
  color: 'red',
  defaultWindow: [0, 1],
  metrics: ['latency', 'counters'],
  latencyMeaning: 'ping',
  connectionNoun: 'pingers',
  settings: Type.Object(
    {
      enabled: Type.Boolean({ default: false, description: 'Run the toy stage.' }),
      intervalMs: Type.Integer({ minimum: 10, default: 50, description: 'Time between pings per user, in ms.' }),
    },
    { additionalProperties: false, default: {}, description: 'Toy traffic.' },
  ),
  async run({ settings, users, metrics, endAt, signal }) {
    metrics.targetConnections = users.length;
    metrics.activeConnections = users.length;
    for (let next = Date.now(); next < endAt && !signal.aborted; next += settings.intervalMs) {
      await sleepUntil(next, signal);
      for (let i = 0; i < users.length; i++) {
        metrics.sent++;
        metrics.completed++;
        metrics.latency.record(1);
      }
    }
    metrics.activeConnections = 0;
  },
});
