// The load-growing latency fault (`loadLatency`): echoes wait longer the more connections of
// their kind are live, on the wire, in order; API requests wait by the requests in flight.
import * as assert from 'assert';
import { openAppEchoChannel } from '../../../../src/coder/apps';
import type { EchoChannel } from '../../../../src/coder/echo';
import { openPtyEchoChannel } from '../../../../src/coder/pty';
import { openSshEchoChannel } from '../../../../src/coder/ssh';
import { startSimDeployment, validateFaults } from '../../../../src/sim';
import { loadDelayMs, OrderedDelay } from '../../../../src/sim/agent/loadLatency';
import { useHarnessAndCacheDir } from './harness';

const DISCARD = 'dd if=/dev/stdin of=/dev/null bs=64 status=none';

/** Sends `text` and resolves with how long its echo took to come back whole (ms). */
function echoMs(channel: EchoChannel, text: string): Promise<{ ms: number; received: string }> {
  return new Promise((resolve) => {
    let received = '';
    const started = performance.now();
    channel.onData((chunk, resync) => {
      if (resync) return;
      received += chunk.toString();
      if (received.includes(text)) resolve({ ms: performance.now() - started, received });
    });
    channel.send(Buffer.from(text));
  });
}

describe('data plane: the load-growing latency fault', () => {
  const fixture = useHarnessAndCacheDir();

  it('computes msPerConnection × (live − above), never below zero', () => {
    const faults = { loadLatency: { pty: { msPerConnection: 20, above: 5 }, apps: { msPerConnection: 3 } } };
    assert.strictEqual(loadDelayMs(faults, 'pty', 3), 0);
    assert.strictEqual(loadDelayMs(faults, 'pty', 5), 0);
    assert.strictEqual(loadDelayMs(faults, 'pty', 8), 60);
    assert.strictEqual(loadDelayMs(faults, 'apps', 4), 12, '"above" defaults to 0');
    assert.strictEqual(loadDelayMs(faults, 'ssh', 100), 0, 'kinds without the knob are not slowed');
  });

  it('keeps the order of what it delays, also when the delay shrinks', async () => {
    const delay = new OrderedDelay();
    const order: string[] = [];
    delay.run(60, () => order.push('slow first'));
    delay.run(0, () => order.push('fast second'));
    delay.run(10, () => order.push('third'));
    assert.strictEqual(order.length, 0, 'nothing runs before the first is due');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepStrictEqual(order, ['slow first', 'fast second', 'third']);
    const cancelled = new OrderedDelay();
    cancelled.run(10, () => order.push('cancelled'));
    cancelled.cancel();
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.ok(!order.includes('cancelled'));
  });

  it('delays web-terminal echoes by the live web-terminal connections above the knee', async () => {
    fixture.harness.faults = { loadLatency: { pty: { msPerConnection: 150, above: 2 } } };
    const open = () =>
      openPtyEchoChannel({ connection: fixture.harness.connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD });
    const channels = [await open(), await open(), await open(), await open()];
    // Four live, two above the knee: 300 ms added to every echo, bytes in order.
    const first = await echoMs(channels[0], 'one\ntwo\nthree\n');
    assert.ok(first.ms >= 300, `echo took ${first.ms} ms`);
    assert.ok(first.received.endsWith('one\ntwo\nthree\n'), JSON.stringify(first.received));
    await Promise.all(channels.map((channel) => channel.close()));
  });

  it('delays app and SSH echoes by the live connections of their kind', async () => {
    fixture.harness.faults = { loadLatency: { apps: { msPerConnection: 120 }, ssh: { msPerConnection: 200, above: 0 } } };
    const apps = await Promise.all(
      [0, 1].map(() =>
        openAppEchoChannel({ connection: fixture.harness.connection, owner: 'alice', workspace: 'alpha', agent: 'main', slug: 'wsec' }),
      ),
    );
    const app = await echoMs(apps[0], 'app payload\n');
    assert.ok(app.ms >= 240, `app echo took ${app.ms} ms (2 live × 120 ms)`);
    assert.strictEqual(app.received, 'app payload\n');
    const { host, port } = await fixture.harness.services.listenDirectSsh();
    const ssh = await openSshEchoChannel({ transport: { kind: 'tcp', host, port, username: 'alice/beta' }, bytesPerTick: 64 });
    const echoed = await echoMs(ssh, 'ssh payload\n');
    assert.ok(echoed.ms >= 200, `ssh echo took ${echoed.ms} ms (1 live × 200 ms)`);
    assert.strictEqual(echoed.received, 'ssh payload\n');
    await Promise.all([...apps, ssh].map((channel) => channel.close()));
  });

  it('delays API requests by the requests in flight', async () => {
    const sim = await startSimDeployment({ faults: { loadLatency: { api: { msPerRequest: 100, above: 0 } } } });
    try {
      const timed = async () => {
        const started = performance.now();
        const response = await fetch(`${sim.url}/api/v2/buildinfo`);
        assert.strictEqual(response.status, 200);
        return performance.now() - started;
      };
      const alone = await timed();
      assert.ok(alone >= 100, `one request took ${alone} ms (1 in flight × 100 ms)`);
      const together = await Promise.all([timed(), timed(), timed(), timed()]);
      assert.ok(Math.max(...together) >= 200, `four at once took ${together.map(Math.round).join(', ')} ms`);
    } finally {
      await sim.close();
    }
  });

  it('rejects a malformed loadLatency with the knob and the rule', () => {
    assert.throws(
      () =>
        validateFaults({
          loadLatency: {
            pty: { msPerConnection: -1 },
            web: { msPerConnection: 1 },
            ssh: { above: 2 },
            api: { msPerRequest: 1, above: 1.5 },
          },
        }),
      (error: Error) => {
        assert.match(error.message, /\/loadLatency\/pty\/msPerConnection: must be >= 0/);
        assert.match(error.message, /\/loadLatency: unknown knob "web"/);
        assert.match(error.message, /\/loadLatency\/ssh: missing "msPerConnection"/);
        assert.match(error.message, /\/loadLatency\/api\/above: must be integer/);
        return true;
      },
    );
    assert.deepStrictEqual(validateFaults({ loadLatency: { pty: { msPerConnection: 2, above: 10 } } }), {
      loadLatency: { pty: { msPerConnection: 2, above: 10 } },
    });
  });
});
