import * as assert from 'assert';
import { openAppEchoChannel } from '../../../../src/coder/apps';
import { ensureCoderBinary } from '../../../../src/coder/cliCache';
import type { EchoChannel, EchoCloseInfo } from '../../../../src/coder/echo';
import { openPtyEchoChannel } from '../../../../src/coder/pty';
import { openSshEchoChannel } from '../../../../src/coder/ssh';
import { CountedSelector } from '../../../../src/sim/agent/liveConnections';
import { useHarnessAndCacheDir, waitFor } from './harness';

const DISCARD = 'dd if=/dev/stdin of=/dev/null bs=64 status=none';

/** Opens `count` channels and returns, per channel, its unexpected closes. */
async function openAll(count: number, open: () => Promise<EchoChannel>): Promise<{ channels: EchoChannel[]; drops: EchoCloseInfo[][] }> {
  const channels: EchoChannel[] = [];
  const drops: EchoCloseInfo[][] = [];
  for (let i = 0; i < count; i++) {
    const channel = await open();
    const mine: EchoCloseInfo[] = [];
    channel.onClose((info) => {
      if (!info.expected) mine.push(info);
    });
    channels.push(channel);
    drops.push(mine);
  }
  return { channels, drops };
}

describe('data plane: faults', () => {
  const fixture = useHarnessAndCacheDir();

  it('selects exactly the configured fraction of connections, spread evenly', () => {
    const selector = new CountedSelector();
    const picks = Array.from({ length: 20 }, () => selector.next(0.25));
    assert.strictEqual(picks.filter(Boolean).length, 5);
    assert.deepStrictEqual(picks.slice(0, 8), [false, false, false, true, false, false, false, true]);
    const all = new CountedSelector();
    assert.ok(Array.from({ length: 5 }, () => all.next(1)).every(Boolean));
    const none = new CountedSelector();
    assert.ok(Array.from({ length: 5 }, () => none.next(0)).every((pick) => !pick));
  });

  it('drops that fraction of PTY connections after the delay; the rest stay up', async () => {
    fixture.harness.faults = { dropConnections: { pty: { fraction: 0.5, afterMs: 50 } } };
    const { channels, drops } = await openAll(6, () =>
      openPtyEchoChannel({ connection: fixture.harness.connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD }),
    );
    await waitFor(() => drops.filter((d) => d.length > 0).length === 3, 'three PTY drops');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepStrictEqual(
      drops.map((d) => d.length),
      [0, 1, 0, 1, 0, 1],
    );
    assert.strictEqual(drops[1][0].code, 1006, 'abrupt: no close frame');
    assert.strictEqual(fixture.harness.sessions.reconnecting_pty, 3);
    await Promise.all(channels.map((c, i) => (drops[i].length ? undefined : c.close())));
  });

  it('drops that fraction of SSH connections', async () => {
    fixture.harness.faults = { dropConnections: { ssh: { fraction: 0.34, afterMs: 30 } } };
    const binary = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    const { channels, drops } = await openAll(3, () =>
      openSshEchoChannel({
        transport: { kind: 'cli', binaryPath: binary.path, connection: fixture.harness.connection, owner: 'alice', workspace: 'alpha' },
        bytesPerTick: 64,
      }),
    );
    await waitFor(() => drops.some((d) => d.length > 0), 'an SSH drop');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepStrictEqual(
      drops.map((d) => d.length),
      [0, 0, 1],
    );
    await Promise.all(channels.slice(0, 2).map((c) => c.close()));
  });

  it('drops that fraction of app WebSockets', async () => {
    fixture.harness.faults = { dropConnections: { apps: { fraction: 1, afterMs: 20 } } };
    const { drops } = await openAll(2, () =>
      openAppEchoChannel({ connection: fixture.harness.connection, owner: 'alice', workspace: 'alpha', agent: 'main', slug: 'wsec' }),
    );
    await waitFor(() => drops.every((d) => d.length === 1), 'both app drops');
    assert.strictEqual(drops[0][0].code, 1006);
    await waitFor(() => fixture.harness.sessions.app === 0, 'sessions released');
  });

  it('resetAll cuts every live connection; PTY sessions survive for re-attach', async () => {
    const binary = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    const { host, port } = await fixture.harness.services.listenDirectSsh();
    const pty = await openAll(2, () =>
      openPtyEchoChannel({ connection: fixture.harness.connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD }),
    );
    const ssh = await openAll(1, () =>
      openSshEchoChannel({
        transport: { kind: 'cli', binaryPath: binary.path, connection: fixture.harness.connection, owner: 'alice', workspace: 'alpha' },
        bytesPerTick: 64,
      }),
    );
    const direct = await openAll(1, () =>
      openSshEchoChannel({ transport: { kind: 'tcp', host, port, username: 'alice/beta' }, bytesPerTick: 64 }),
    );
    const apps = await openAll(1, () =>
      openAppEchoChannel({ connection: fixture.harness.connection, owner: 'alice', workspace: 'alpha', agent: 'main', slug: 'wsec' }),
    );
    const all = [...pty.drops, ...ssh.drops, ...direct.drops, ...apps.drops];
    assert.deepStrictEqual(fixture.harness.sessions, { reconnecting_pty: 2, ssh: 2, app: 1 });
    fixture.harness.services.resetAll();
    await waitFor(() => all.every((d) => d.length === 1), 'every connection dropped');
    await waitFor(
      () => fixture.harness.sessions.reconnecting_pty + fixture.harness.sessions.ssh + fixture.harness.sessions.app === 0,
      'sessions released',
    );
    assert.strictEqual(fixture.harness.services.ptySessions().length, 2);
  });

  it("forgetAgent ends that agent's sessions only", async () => {
    const one = await openPtyEchoChannel({
      connection: fixture.harness.connection,
      agentId: 'agent-1',
      width: 80,
      height: 24,
      command: DISCARD,
    });
    const two = await openPtyEchoChannel({
      connection: fixture.harness.connection,
      agentId: 'agent-2',
      width: 80,
      height: 24,
      command: DISCARD,
    });
    const closes: string[] = [];
    one.onClose(() => closes.push('agent-1'));
    two.onClose(() => closes.push('agent-2'));
    fixture.harness.services.forgetAgent('agent-1');
    await waitFor(() => closes.length === 1, 'agent-1 closed');
    assert.deepStrictEqual(closes, ['agent-1']);
    assert.deepStrictEqual(
      fixture.harness.services.ptySessions().map((s) => s.agentId),
      ['agent-2'],
    );
    await two.close();
  });
});
