// The toy stage's runner (see ./toyStage.ts): pings that take no time, counted as round trips.
import { sleepUntil } from '../../src/engine/common/sleep';
import type { StageUser } from '../../src/engine/prepare/prepare';
import type { StageRunner } from '../../src/engine/stages/definition';
import type { ToySettings } from './toyStage';

export const toyRunner: StageRunner<ToySettings, StageUser> = {
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
};
