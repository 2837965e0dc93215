// The text send path (sendText) must put exactly the frames on the wire that the Buffer path
// does: binary frames, same bytes. A plain WebSocket server on loopback records what arrives.
import * as assert from 'assert';
import type { AddressInfo } from 'net';
import { WebSocketServer } from 'ws';
import { openAppEchoChannel } from '../../../src/coder/apps';
import { openPtyEchoChannel } from '../../../src/coder/pty';

interface Frame {
  path: string;
  binary: boolean;
  bytes: string;
}

async function recordingServer(): Promise<{ url: string; frames: Frame[]; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const frames: Frame[] = [];
  server.on('connection', (socket, request) => {
    socket.on('message', (data: Buffer, binary: boolean) =>
      frames.push({ path: (request.url ?? '').split('?')[0], binary, bytes: data.toString('latin1') }),
    );
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    frames,
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), 'frames did not arrive');
}

describe('echo channels: the text send path', () => {
  const line = '0000002a:AbCdEf0123456789xyz\n';

  it('app WebSocket: sendText sends the same binary frame as send', async () => {
    const server = await recordingServer();
    try {
      const channel = await openAppEchoChannel({
        connection: { url: server.url, token: 't' },
        owner: 'alice',
        workspace: 'alpha',
        agent: 'main',
        slug: 'wsec',
        closeTimeoutMs: 500,
      });
      channel.send(Buffer.from(line, 'latin1'));
      channel.sendText!(line);
      await until(() => server.frames.length === 2);
      assert.deepStrictEqual(server.frames[0], server.frames[1]);
      assert.deepStrictEqual(server.frames[1], { path: '/@alice/alpha.main/apps/wsec/', binary: true, bytes: line });
      await channel.close();
    } finally {
      await server.close();
    }
  });

  it('web terminal: sendText sends the same JSON {"data"} binary frame as send, newline escaped', async () => {
    const server = await recordingServer();
    try {
      // raw: no resync marker is written on attach, so the frames are only the two sends.
      const channel = await openPtyEchoChannel({
        connection: { url: server.url, token: 't' },
        agentId: 'agent-1',
        width: 80,
        height: 24,
        command: 'sh',
        normalizeNewlines: false,
        closeTimeoutMs: 500,
      });
      channel.send(Buffer.from(line, 'latin1'));
      channel.sendText!(line);
      await until(() => server.frames.length === 2);
      assert.deepStrictEqual(server.frames[0], server.frames[1]);
      assert.strictEqual(server.frames[1].binary, true);
      assert.deepStrictEqual(JSON.parse(server.frames[1].bytes), { data: line });
      assert.strictEqual(server.frames[1].bytes, `{"data":"${line.slice(0, -1)}\\n"}`);
      await channel.close();
    } finally {
      await server.close();
    }
  });
});
