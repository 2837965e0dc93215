import * as assert from 'assert';
import { randomBytes } from 'crypto';
import WebSocket from 'ws';
import { ByteRing } from '../../../src/coder/byteRing';
import { CrlfNormalizer, ReplayDeduplicator } from '../../../src/coder/echo';
import { chunkUtf8, openPtyEchoChannel, ReconnectingPtySocket, ptyPath } from '../../../src/coder/pty';
import { WebSocketDialError } from '../../../src/coder/wsDial';
import { Collector, type Harness, startHarness, TEST_TOKEN, waitFor } from './harness';

const DISCARD = 'dd if=/dev/stdin of=/dev/null bs=64 status=none';

/** Random printable characters plus '\n', like the engine's ticks. */
function tick(size: number): Buffer {
  const bytes = randomBytes(size);
  for (let i = 0; i < size - 1; i++) bytes[i] = 0x21 + (bytes[i] % 94);
  bytes[size - 1] = 0x0a;
  return bytes;
}

/** A raw client socket; `out` collects from the first frame on (replays come right away). */
function rawSocket(harness: Harness, reconnectId: string, command = DISCARD): Promise<{ socket: WebSocket; out: Collector }> {
  const url = `${harness.url.replace('http', 'ws')}${ptyPath('agent-1', { reconnectId, width: 80, height: 24, command })}`;
  const socket = new WebSocket(url, { headers: { 'Coder-Session-Token': TEST_TOKEN }, perMessageDeflate: false });
  const out = new Collector();
  socket.on('message', out.push);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, out }));
    socket.once('error', reject);
  });
}

function closeOf(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code: number) => resolve(code)));
}

describe('data plane: echo helpers', () => {
  it('CrlfNormalizer turns CRLF into LF even when split across chunks, and keeps lone CRs', () => {
    const normalizer = new CrlfNormalizer();
    const parts = ['ab\r', '\ncd\r\n', 'e\rf\r', '', 'g\r', '\r\n'].map((s) => normalizer.push(Buffer.from(s)).toString());
    assert.strictEqual(parts.join(''), 'ab\ncd\ne\rf\rg\r\n');
  });

  it('ByteRing keeps the last N bytes across wrap-around and oversized writes', () => {
    const ring = new ByteRing(8);
    ring.write(Buffer.from('abc'));
    assert.strictEqual(ring.contents().toString(), 'abc');
    ring.write(Buffer.from('defghij'));
    assert.strictEqual(ring.contents().toString(), 'cdefghij');
    ring.write(Buffer.from('kl'));
    assert.strictEqual(ring.contents().toString(), 'efghijkl');
    ring.write(Buffer.from('0123456789'));
    assert.strictEqual(ring.contents().toString(), '23456789');
    assert.strictEqual(ring.length, 8);
    // A large ring grows as it fills and wraps like a small one.
    const big = new ByteRing(10_000);
    const data = tick(25_000);
    for (let offset = 0; offset < data.length; offset += 3000) big.write(data.subarray(offset, offset + 3000));
    assert.deepStrictEqual(big.contents(), data.subarray(15_000));
  });

  it('chunkUtf8 keeps pieces within 1024 bytes and never splits a character', () => {
    const text = 'é'.repeat(700) + 'x'.repeat(10);
    const pieces = chunkUtf8(Buffer.from(text));
    assert.ok(pieces.length >= 2);
    for (const piece of pieces) assert.ok(Buffer.byteLength(piece) <= 1024);
    assert.strictEqual(pieces.join(''), text);
  });

  it('ReplayDeduplicator skips the replayed overlap and passes only new bytes', () => {
    const output = Buffer.concat([tick(50_000), tick(30_000), tick(10_000)]);
    const dedup = new ReplayDeduplicator();
    const received = 70_000;
    assert.deepStrictEqual(dedup.push(output.subarray(0, received)), output.subarray(0, received));
    dedup.expectReplay();
    const replay = output.subarray(output.length - ReplayDeduplicator.REPLAY_BYTES);
    // The replay may arrive in several frames; nothing is delivered twice.
    const fresh = Buffer.concat([dedup.push(replay.subarray(0, 1000)), dedup.push(replay.subarray(1000)), dedup.push(Buffer.from('live'))]);
    assert.deepStrictEqual(fresh, Buffer.concat([output.subarray(received), Buffer.from('live')]));
  });

  it('ReplayDeduplicator passes everything when the replay no longer overlaps (more than 64 KiB missed)', () => {
    const dedup = new ReplayDeduplicator();
    dedup.push(tick(5000));
    dedup.expectReplay();
    const unseen = tick(70_000).subarray(70_000 - ReplayDeduplicator.REPLAY_BYTES);
    assert.deepStrictEqual(dedup.push(unseen), unseen);
  });
});

describe('data plane: reconnecting PTY', () => {
  let harness: Harness;
  beforeEach(async () => {
    // Long enough that a re-attach in a test never races the expiry, short enough to test it.
    harness = await startHarness({ ptyDetachedTtlMs: 600 });
  });
  afterEach(async () => harness.close());

  it('echoes input like a terminal: CRLF raw, exact bytes when normalised', async () => {
    const raw = await openPtyEchoChannel({ connection: harness.connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD, normalizeNewlines: false });
    const rawOut = new Collector();
    raw.onData(rawOut.push);
    raw.send(Buffer.from('hello\nworld\n'));
    await waitFor(() => rawOut.text === 'hello\r\nworld\r\n', 'raw echo');

    const channel = await openPtyEchoChannel({ connection: harness.connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD });
    const out = new Collector();
    channel.onData(out.push);
    const sent = Buffer.concat([tick(1024), tick(3000), tick(17)]);
    channel.send(sent);
    await waitFor(() => out.bytes.length >= sent.length, 'normalised echo');
    assert.deepStrictEqual(out.bytes, sent);
    await Promise.all([raw.close(), channel.close()]);
  });

  it('a command that prints what it reads (cat) shows each line twice, like a real terminal', async () => {
    const { socket, out } = await rawSocket(harness, 'cat', 'cat');
    socket.send(Buffer.from('{"data":"one\\ntw"}{"data":"o\\n"}'));
    await waitFor(() => out.text.length >= 20, 'echo and output');
    assert.strictEqual(out.text, 'one\r\none\r\ntwo\r\ntwo\r\n');
    socket.terminate();
  });

  it('closes with 1003 on a text frame', async () => {
    const { socket } = await rawSocket(harness, 'text-frame');
    const closed = closeOf(socket);
    socket.send('{"data":"x"}');
    assert.strictEqual(await closed, 1003);
  });

  it('closes with 1009 on a frame over 32 KiB, and accepts exactly 32 KiB', async () => {
    const { socket: ok, out: echoed } = await rawSocket(harness, 'max-frame');
    const limit = Buffer.from(JSON.stringify({ data: 'a'.repeat(32768 - 11) }));
    assert.strictEqual(limit.length, 32768);
    ok.send(limit);
    await waitFor(() => echoed.bytes.length === 32768 - 11, 'echo of a 32 KiB frame');
    ok.terminate();

    const { socket } = await rawSocket(harness, 'big-frame');
    const closed = closeOf(socket);
    socket.send(Buffer.from(JSON.stringify({ data: 'a'.repeat(32768) })));
    assert.strictEqual(await closed, 1009);
  });

  it('parses JSON objects split across frames and several objects in one frame', async () => {
    const { socket, out } = await rawSocket(harness, 'split');
    socket.send(Buffer.from('{"da'));
    socket.send(Buffer.from('ta":"ab\\n"}{"height":40,"wid'));
    socket.send(Buffer.from('th":100} {"data":"c\\u00e9"}{"data":"'));
    socket.send(Buffer.from('d"}'));
    await waitFor(() => out.text === 'ab\r\ncéd', 'echo of split objects');
    const size = harness.services.ptySessions().find((s) => s.reconnect === 'split');
    assert.deepStrictEqual(size && { height: size.height, width: size.width }, { height: 40, width: 100 });
    socket.terminate();
  });

  it('applies resize messages from the client', async () => {
    const pty = new ReconnectingPtySocket({ connection: harness.connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD });
    await pty.connect();
    pty.resize(50, 132);
    pty.write('x');
    const out = new Collector();
    pty.onData(out.push);
    await waitFor(() => out.text === 'x', 'echo after resize');
    const session = harness.services.ptySessions().find((s) => s.reconnect === pty.reconnectId);
    assert.deepStrictEqual(session && [session.height, session.width], [50, 132]);
    await pty.close();
  });

  it('replays the output on re-attach with the same id; the channel delivers each byte once', async () => {
    const channel = await openPtyEchoChannel({ connection: harness.connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD });
    const out = new Collector();
    const closes: Array<{ expected: boolean; code?: number }> = [];
    channel.onData(out.push);
    channel.onClose((info) => closes.push(info));
    const first = tick(2000);
    channel.send(first);
    await waitFor(() => out.bytes.length === first.length, 'first echo');
    harness.services.resetAll();
    await waitFor(() => closes.length === 1, 'drop reported');
    assert.strictEqual(closes[0].expected, false);
    assert.strictEqual(closes[0].code, 1006);

    // The raw socket sees the replay of what was already echoed.
    const { socket: raw, out: replay } = await rawSocket(harness, channel.reconnectId);
    await waitFor(() => replay.bytes.length >= first.length + 1, 'replay');
    assert.strictEqual(replay.text, first.toString().replace(/\n/g, '\r\n'));
    raw.terminate();

    await channel.reconnect();
    const second = tick(500);
    channel.send(second);
    await waitFor(() => out.bytes.length >= first.length + second.length, 'second echo');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepStrictEqual(out.bytes, Buffer.concat([first, second]));
    await channel.close();
  });

  it('expires a detached session after the configured time', async () => {
    const { socket: first, out } = await rawSocket(harness, 'expiring');
    first.send(Buffer.from('{"data":"kept?\\n"}'));
    await waitFor(() => out.text === 'kept?\r\n', 'echo');
    first.terminate();
    await waitFor(() => !harness.services.ptySessions().some((s) => s.reconnect === 'expiring'), 'expiry', 3000);
    const { socket: again, out: replay } = await rawSocket(harness, 'expiring');
    again.send(Buffer.from('{"data":"new"}'));
    await waitFor(() => replay.text.length >= 3, 'echo in the new session');
    assert.strictEqual(replay.text, 'new');
    again.terminate();
  });

  it('close() sends Ctrl-C and waits for EOF; session counts go up and back down', async () => {
    const channel = await openPtyEchoChannel({ connection: harness.connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD });
    await waitFor(() => harness.sessions.reconnecting_pty === 1, 'session counted');
    const closes: Array<{ expected: boolean; code?: number }> = [];
    channel.onClose((info) => closes.push(info));
    await channel.close();
    assert.deepStrictEqual(closes.map((c) => [c.expected, c.code]), [[true, 1000]]);
    await waitFor(() => harness.sessions.reconnecting_pty === 0, 'session released');
    assert.strictEqual(harness.services.ptySessions().length, 0);
    assert.throws(() => channel.send(Buffer.from('late')), /not open/);
  });

  it('reports a refused upgrade with its status and message, without the token', async () => {
    const connection = { url: harness.url, token: 'wrong-token' };
    await assert.rejects(
      openPtyEchoChannel({ connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD }),
      (error: unknown) => error instanceof WebSocketDialError && error.status === 401 && /not authorized/.test(error.message) && !error.message.includes('wrong-token'),
    );
  });
});
