import * as assert from 'assert';
import { runEchoStage } from '../../../src/engine/echoStage';
import type { EchoTransport } from '../../../src/engine/echoSession';
import { StageMetrics } from '../../../src/engine/metrics';
import { defaultPlan } from '../../../src/engine/plan';
import type { PreparedUser } from '../../../src/engine/prepare';
import { seededRandom } from '../../../src/engine/random';

/** An in-memory echo that takes `openMs` to open: a slow handshake without a network. */
function slowEcho(openMs: number): () => Promise<EchoTransport> {
  return () =>
    new Promise((resolve) =>
      setTimeout(() => {
        let onData: (data: Buffer) => void = () => {};
        resolve({
          send: (data) => setImmediate(() => onData(data)),
          onData: (listener) => (onData = listener),
          onClose: () => {},
          close: () => {},
        });
      }, openMs),
    );
}

describe('echo stage ramp-up', () => {
  it('stops opening connections at the stage end and counts the ones it could not open', async () => {
    const metrics = new StageMetrics('apps', 'Workspace apps');
    const users = Array.from({ length: 8 }, (_, index) => ({ index, workspaceName: `w${index}` })) as unknown as PreparedUser[];
    const warnings: string[] = [];
    await runEchoStage({
      plan: defaultPlan(),
      settings: { bytesPerTick: 64, tickIntervalMs: 100 },
      openers: async () => () => slowEcho(400),
      signal: new AbortController().signal,
      users,
      metrics,
      // The first four (the ramp-up's concurrency) start at once; the stage ends before the next four.
      endAt: Date.now() + 200,
      random: seededRandom(1),
      log: (level, message) => level === 'warn' && warnings.push(message),
    });
    assert.strictEqual(metrics.errors.not_opened, 4);
    assert.strictEqual(metrics.connectLatency.count(), 4);
    assert.ok(warnings.some((w) => w.includes('4 of 8 connections were not opened before the stage\'s end')), warnings.join('\n'));
  });
});
