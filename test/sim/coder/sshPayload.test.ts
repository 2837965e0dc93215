// The SSH echo channel copies every payload before send() returns (copiesPayload), so the engine
// may build each tick in one reused buffer — also while the channel's window is full and ssh2
// would otherwise keep the caller's buffer. A real ssh2 server on loopback whose command does
// not read its stdin at first (so its window fills) records every byte that arrives.
import * as assert from 'assert';
import type { AddressInfo } from 'net';
import { Client, type ClientChannel, Server, type ServerChannel, utils } from 'ssh2';
import { openSshEchoChannel, writesThrough } from '../../../src/coder/ssh';

const PAYLOAD_BYTES = 1024;
/** More than ssh2's channel window (2 MiB): the last sends wait for the window to open. */
const PAYLOADS = 2600;

interface StdinServer {
  port: number;
  /** The exec'd command's stdin so far. */
  received(): Buffer;
  /** The command starts reading its stdin (until then ssh2 opens no window). */
  startReading(): void;
  close(): Promise<void>;
}

async function stdinRecordingServer(): Promise<StdinServer> {
  const chunks: Buffer[] = [];
  let stdin: ServerChannel | undefined;
  let reading = false;
  const read = () => stdin?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const server = new Server({ hostKeys: [utils.generateKeyPairSync('ecdsa', { bits: 256 }).private] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (context) => context.accept());
    client.on('session', (accept) =>
      accept().on('exec', (acceptExec) => {
        stdin = acceptExec();
        if (reading) read();
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => Buffer.concat(chunks),
    startReading: () => {
      reading = true;
      read();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), what);
};

describe('SSH echo channel: payloads are copied before send() returns', () => {
  let server: StdinServer;
  beforeEach(async () => (server = await stdinRecordingServer()));
  afterEach(async () => server.close());

  it('sends each payload as it was when sent, though the caller rewrites one buffer, window full or not', async () => {
    const channel = await openSshEchoChannel({
      transport: { kind: 'tcp', host: '127.0.0.1', port: server.port, username: 'u' },
      bytesPerTick: PAYLOAD_BYTES,
      closeTimeoutMs: 1000,
    });
    try {
      assert.strictEqual(channel.copiesPayload, true);
      const reused = Buffer.alloc(PAYLOAD_BYTES);
      const expected: Buffer[] = [];
      for (let i = 0; i < PAYLOADS; i++) {
        reused.fill(`${i % 997}:`);
        expected.push(Buffer.from(reused));
        channel.send(reused);
      }
      server.startReading();
      await until(() => server.received().length >= PAYLOADS * PAYLOAD_BYTES, 'every payload arrived');
      assert.ok(server.received().equals(Buffer.concat(expected)), 'the bytes arrived as sent, in order');
    } finally {
      await channel.close();
    }
  });

  it("reads ssh2's window: a write goes straight through while it fits, not once the window is full", async () => {
    const client = new Client();
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.once('error', reject);
      client.once('ready', () => client.exec('cat', (error, stream) => (error ? reject(error) : resolve(stream))));
      client.connect({ host: '127.0.0.1', port: server.port, username: 'u', hostVerifier: () => true });
    });
    try {
      // Should ssh2's channel state change shape, this fails (and sends fall back to copies).
      assert.strictEqual(writesThrough(channel, PAYLOAD_BYTES), true, 'an open channel with its window takes a write');
      const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
      let sent = 0;
      while (writesThrough(channel, PAYLOAD_BYTES) && sent < 10_000) {
        channel.write(payload);
        sent++;
      }
      assert.ok(sent >= 2000 && sent < 10_000, `the window (2 MiB) filled after ${sent} writes`);
      channel.write(payload);
      assert.strictEqual(writesThrough(channel, PAYLOAD_BYTES), false, 'a write waits behind the kept one');
    } finally {
      client.end();
    }
  });
});
