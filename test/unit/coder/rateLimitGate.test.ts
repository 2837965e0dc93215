import * as assert from 'assert';
import { RateLimitGate } from '../../../src/coder/rateLimitGate';

describe('CoderClient: the rate-limit gate (learns from 429 and X-Ratelimit-*, paces under the limit)', () => {
  it('after a 429 it waits Retry-After, then spaces requests to that path just under the learnt limit', async () => {
    const clock = { now: 0 };
    const gate = new RateLimitGate(() => clock.now);
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      clock.now += ms;
    };
    await gate.before('/api/v2/users', sleep);
    assert.deepStrictEqual(sleeps, [], 'nothing is paced before the first refusal');
    const wait = gate.after('/api/v2/users', 429, { 'x-ratelimit-limit': '10', 'retry-after': '60' });
    assert.strictEqual(wait, 60_000);
    await gate.held(() => sleep(wait!));
    await gate.before('/api/v2/users', sleep);
    await gate.before('/api/v2/users', sleep);
    await gate.before('/api/v2/other', sleep);
    const interval = 60_000 / (10 * 0.95);
    assert.deepStrictEqual(
      sleeps.map((ms) => Math.round(ms)),
      [60_000, Math.round(interval)],
      'the first slot opens when the window does; the next one a paced interval later; other paths are free',
    );
    const state = gate.state();
    assert.deepStrictEqual(state.limitedPaths, [{ path: '/api/v2/users', limit: 10, windowMs: 60_000 }]);
    assert.strictEqual(Math.round(state.heldBackMs), Math.round(60_000 + interval));
    assert.strictEqual(state.refusals, 1);
  });

  it('once a refusal told the window, paces a path whose X-Ratelimit-Remaining runs low; ignores a 429 without headers', async () => {
    const gate = new RateLimitGate(() => 0);
    gate.after('/a', 200, { 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '3' });
    assert.deepStrictEqual(gate.state().limitedPaths, [], 'the window is not known yet');
    gate.after('/z', 429, { 'x-ratelimit-limit': '100', 'retry-after': '2' });
    gate.after('/a', 200, { 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '3' });
    assert.deepStrictEqual(
      gate.state().limitedPaths.find((p) => p.path === '/a'),
      { path: '/a', limit: 100, windowMs: 2000 },
    );
    assert.strictEqual(gate.after('/b', 429, { 'retry-after': '2' }), 2000, "a proxy's 429: honour its Retry-After");
    assert.ok(!gate.state().limitedPaths.some((p) => p.path === '/b'), 'but no limit to pace /b by');
  });
});
