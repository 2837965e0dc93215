import * as assert from 'assert';
import { performance } from 'perf_hooks';
import { RampPacer, probeEventLoopLag } from '../../../../../src/engine/stages/echo/pacing';

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the event loop cannot turn
  }
}

describe('ramp-up pacing by event-loop lag', () => {
  it('sees a blocked event loop as lag', async () => {
    const probe = probeEventLoopLag();
    blockFor(60);
    assert.ok((await probe) >= 50);
  });

  it('holds a connection back while the loop is busy, and gives up once its budget is spent', async () => {
    const pacer = new RampPacer({ maxLagMs: 20, backoffMs: 5, budgetMs: 150 });
    // A neighbour that keeps the loop busy in 40 ms slices.
    let busy = true;
    const hog = setInterval(() => busy && blockFor(40), 1);
    try {
      await pacer.beforeConnect();
      assert.ok(pacer.heldBackMs() >= 150, `held back ${pacer.heldBackMs()} ms`);
      const spent = pacer.heldBackMs();
      await pacer.beforeConnect();
      assert.strictEqual(pacer.heldBackMs(), spent, 'no waiting once the budget is spent');
    } finally {
      busy = false;
      clearInterval(hog);
    }
  });

  it('stops waiting when the stage is aborted', async () => {
    const pacer = new RampPacer({ maxLagMs: 20, backoffMs: 5, budgetMs: 10_000 });
    const controller = new AbortController();
    controller.abort();
    await pacer.beforeConnect(controller.signal);
    assert.strictEqual(pacer.heldBackMs(), 0);
  });
});
