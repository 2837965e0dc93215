import * as assert from 'assert';
import { randomBytes } from 'crypto';
import WebSocket from 'ws';
import { ByteRing } from '../../../../src/coder/byteRing';
import { MarkerResync, TerminalTextFilter } from '../../../../src/coder/echo';
import { chunkUtf8, openPtyEchoChannel, ReconnectingPtySocket, ptyPath } from '../../../../src/coder/pty';
import { WebSocketDialError } from '../../../../src/coder/wsDial';
import { CANONICAL_LINE_MAX, PTY_BACKENDS, screenAttachOutput } from '../../../../src/sim/agent/ptyService';
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
  /** Everything a filter emits for `chunks`, joined. */
  function filtered(chunks: Array<string | Buffer>): string {
    const filter = new TerminalTextFilter();
    const out: Buffer[] = [];
    for (const chunk of chunks) filter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1'), (text) => out.push(text));
    return Buffer.concat(out).toString('latin1');
  }

  it('TerminalTextFilter drops CRs and escape sequences, also when split across chunks', () => {
    assert.strictEqual(filtered(['ab\r', '\ncd\r\n', 'e\rf']), 'ab\ncd\nef');
    // CSI with private parameters, charset designation, keypad mode, OSC title (BEL and ST).
    assert.strictEqual(filtered(['\x1b[!p\x1b[?3;4l\x1b(B\x1b=x\x1b]0;title\x07y\x1b]2;t\x1b\\z']), 'xyz');
    const preamble = screenAttachOutput(24, 80, undefined);
    for (let cut = 0; cut <= preamble.length; cut++) {
      assert.strictEqual(
        filtered([preamble.subarray(0, cut), preamble.subarray(cut), 'ok\r\n']),
        filtered([preamble]) + 'ok\n',
        `cut at ${cut}`,
      );
    }
    // eslint-disable-next-line no-control-regex -- looks for the ESC byte itself
    assert.ok(!/\x1b/.test(filtered([preamble])));
    const plain = Buffer.from('0000000a:xyz\n');
    const views: Buffer[] = [];
    new TerminalTextFilter().push(plain, (view) => views.push(view));
    assert.strictEqual(views.length, 1);
    assert.strictEqual(views[0].buffer, plain.buffer, 'text without CR or ESC passes as a view, not a copy');
  });

  it('MarkerResync on 64 KiB of one repeated byte: the replay is resync data, after the marker data is fresh', () => {
    const resync = new MarkerResync();
    const marker = Buffer.from('#resync-0123456789ab');
    const stale: Buffer[] = [];
    const fresh: Buffer[] = [];
    const deliver = (data: Buffer, isResync: boolean) => (isResync ? stale : fresh).push(Buffer.from(data));
    resync.begin(marker);
    const replay = Buffer.alloc(64 * 1024, 0x61);
    // The replay arrives in one frame and in many; the marker's echo is split across frames.
    resync.push(replay.subarray(0, 1000), deliver);
    resync.push(replay.subarray(1000), deliver);
    resync.push(Buffer.from('#resync-0123'), deliver);
    resync.push(Buffer.from('456789ab'), deliver);
    resync.push(Buffer.from('\n'), deliver);
    resync.push(Buffer.from('0000000a:live\n'), deliver);
    assert.deepStrictEqual(Buffer.concat(stale), Buffer.concat([replay, Buffer.from('\n')]));
    assert.strictEqual(Buffer.concat(fresh).toString(), '0000000a:live\n');
    assert.strictEqual(resync.resyncing, false);
    // A stale marker (an earlier attach's, in the replay) does not end a new resync.
    resync.begin(Buffer.from('#resync-ffffffffffff'));
    stale.length = 0;
    fresh.length = 0;
    resync.push(Buffer.concat([replay, marker, Buffer.from('\n'), replay]), deliver);
    assert.strictEqual(fresh.length, 0);
    assert.ok(resync.resyncing);
  });

  it('MarkerResync gives up after its limit and lets the data be checked again', () => {
    const resync = new MarkerResync(10_000);
    const out: Array<[string, boolean]> = [];
    resync.begin(Buffer.from('#resync-x'));
    assert.strictEqual(
      resync.push(Buffer.alloc(20_000, 0x62), (data, isResync) => out.push([data.toString(), isResync])),
      false,
    );
    resync.push(Buffer.from('next'), (data, isResync) => out.push([data.toString(), isResync]));
    assert.strictEqual(
      out
        .filter(([, isResync]) => isResync)
        .map(([data]) => data)
        .join(''),
      'b'.repeat(20_000) + '\n',
    );
    assert.deepStrictEqual(out[out.length - 1], ['next', false]);
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
});

describe('data plane: reconnecting PTY', () => {
  let harness: Harness;
  beforeEach(async () => {
    // Long enough that a re-attach in a test never races the expiry, short enough to test it.
    harness = await startHarness({ ptyDetachedTtlMs: 600 });
  });
  afterEach(async () => harness.close());

  it('echoes input like a terminal: CRLF raw, exact bytes when normalised', async () => {
    const raw = await openPtyEchoChannel({
      connection: harness.connection,
      agentId: 'agent-1',
      width: 80,
      height: 24,
      command: DISCARD,
      normalizeNewlines: false,
    });
    const rawOut = new Collector();
    raw.onData(rawOut.push);
    raw.send(Buffer.from('hello\nworld\n'));
    await waitFor(() => rawOut.text === 'hello\r\nworld\r\n', 'raw echo');

    const channel = await openPtyEchoChannel({
      connection: harness.connection,
      agentId: 'agent-1',
      width: 80,
      height: 24,
      command: DISCARD,
    });
    const out = new Collector();
    channel.onData(out.pushFresh);
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

  it("a line longer than the terminal's canonical buffer echoes whole; a reader gets its first 4095 bytes", async () => {
    const { socket, out } = await rawSocket(harness, 'long-line', 'cat');
    const line = 'a'.repeat(5000);
    socket.send(Buffer.from(JSON.stringify({ data: `${line}\n` })));
    await waitFor(() => out.text.length >= 5002 + CANONICAL_LINE_MAX + 2, 'echo and output');
    assert.strictEqual(CANONICAL_LINE_MAX, 4095);
    assert.strictEqual(out.text, `${line}\r\n${'a'.repeat(4095)}\r\n`);
    socket.terminate();
  });

  for (const backend of PTY_BACKENDS) {
    it(`without a command the user's shell runs what is typed: \`echo marker\` prints the marker on a line of its own (${backend})`, async () => {
      const shellHarness = await startHarness({ ptyBackend: backend });
      try {
        const { socket, out } = await rawSocket(shellHarness, 'shell', '');
        await waitFor(() => out.text.endsWith('$ '), 'prompt');
        const start = out.text.length;
        socket.send(Buffer.from(JSON.stringify({ data: 'echo marker-1\n# comment\nnope\nhalf\u0003' })));
        await waitFor(() => (out.text.slice(start).match(/\$ /g) ?? []).length === 4, 'four prompts');
        const lines = new TerminalTextFilter();
        const text: Buffer[] = [];
        lines.push(Buffer.from(out.text.slice(start)), (view) => text.push(Buffer.from(view)));
        assert.deepStrictEqual(Buffer.concat(text).toString().split('\n'), [
          'echo marker-1',
          'marker-1',
          'coder@workspace:~$ # comment',
          'coder@workspace:~$ nope',
          'bash: nope: command not found',
          'coder@workspace:~$ half^C',
          'coder@workspace:~$ ',
        ]);
        const closed = closeOf(socket);
        socket.send(Buffer.from(JSON.stringify({ data: 'exit\n' })));
        assert.strictEqual(await closed, 1000);
      } finally {
        await shellHarness.close();
      }
    });
  }

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

  it('replays the output on re-attach with the same id; the channel delivers each byte once as fresh', async () => {
    const channel = await openPtyEchoChannel({
      connection: harness.connection,
      agentId: 'agent-1',
      width: 80,
      height: 24,
      command: DISCARD,
    });
    const out = new Collector();
    const closes: Array<{ expected: boolean; code?: number }> = [];
    channel.onData(out.pushFresh);
    channel.onClose((info) => closes.push(info));
    const first = tick(2000);
    channel.send(first);
    await waitFor(() => out.bytes.length === first.length, 'first echo');
    harness.services.resetAll();
    await waitFor(() => closes.length === 1, 'drop reported');
    assert.strictEqual(closes[0].expected, false);
    assert.strictEqual(closes[0].code, 1006);

    // The raw socket sees the replay: the first attach's resync marker, then the echo.
    const { socket: raw, out: replay } = await rawSocket(harness, channel.reconnectId);
    await waitFor(() => replay.text.endsWith(first.toString().replace(/\n/g, '\r\n')), 'replay');
    assert.match(replay.text, /^#resync-[0-9a-f]{12}\r\n/);
    raw.terminate();

    await channel.reconnect();
    const second = tick(500);
    channel.send(second);
    await waitFor(() => out.bytes.length >= first.length + second.length, 'second echo');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepStrictEqual(out.bytes, Buffer.concat([first, second]));
    assert.ok(out.staleText.includes(first.toString()), 'the replay came as resync data');
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
    const channel = await openPtyEchoChannel({
      connection: harness.connection,
      agentId: 'agent-1',
      width: 80,
      height: 24,
      command: DISCARD,
    });
    await waitFor(() => harness.sessions.reconnecting_pty === 1, 'session counted');
    const closes: Array<{ expected: boolean; code?: number }> = [];
    channel.onClose((info) => closes.push(info));
    await channel.close();
    assert.deepStrictEqual(
      closes.map((c) => [c.expected, c.code]),
      [[true, 1000]],
    );
    await waitFor(() => harness.sessions.reconnecting_pty === 0, 'session released');
    assert.strictEqual(harness.services.ptySessions().length, 0);
    assert.throws(() => channel.send(Buffer.from('late')), /not open/);
  });

  it('reports a refused upgrade with its status and message, without the token', async () => {
    const connection = { url: harness.url, token: 'wrong-token' };
    await assert.rejects(
      openPtyEchoChannel({ connection, agentId: 'agent-1', width: 80, height: 24, command: DISCARD }),
      (error: unknown) =>
        error instanceof WebSocketDialError &&
        error.status === 401 &&
        /not authorized/.test(error.message) &&
        !error.message.includes('wrong-token'),
    );
  });
});

describe('data plane: reconnecting PTY, both backends', () => {
  for (const backend of PTY_BACKENDS) {
    describe(`${backend} backend`, () => {
      let harness: Harness;
      beforeEach(async () => (harness = await startHarness({ ptyDetachedTtlMs: 600, ptyBackend: backend })));
      afterEach(async () => harness.close());

      it('delivers exactly the typed bytes as fresh data, whatever the attach showed first', async () => {
        const channel = await openPtyEchoChannel({
          connection: harness.connection,
          agentId: 'agent-1',
          width: 80,
          height: 24,
          command: DISCARD,
        });
        const out = new Collector();
        channel.onData(out.pushFresh);
        const sent = Buffer.concat([tick(1024), tick(1024), tick(100)]);
        channel.send(sent);
        await waitFor(() => out.bytes.length >= sent.length, 'echo');
        assert.deepStrictEqual(out.bytes, sent);
        assert.ok(!out.staleText.includes('\x1b'), 'no escape sequence reaches the consumer');
        assert.strictEqual(harness.services.ptySessions()[0].backend, backend);
        await channel.close();
      });

      it('after a drop and re-attach: every later echo once and fresh; the replay or redraw is resync data', async () => {
        const channel = await openPtyEchoChannel({
          connection: harness.connection,
          agentId: 'agent-1',
          width: 80,
          height: 24,
          command: DISCARD,
        });
        const out = new Collector();
        channel.onData(out.pushFresh);
        const before = Buffer.concat(Array.from({ length: 80 }, () => tick(1024)));
        channel.send(before);
        await waitFor(() => out.bytes.length === before.length, 'echo before the drop');
        harness.services.resetAll();
        await channel.reconnect();
        const after = tick(1024);
        channel.send(after);
        await waitFor(() => out.bytes.length >= before.length + after.length, 'echo after the re-attach');
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepStrictEqual(out.bytes, Buffer.concat([before, after]));
        const lastLine = before.subarray(before.length - 1024, before.length - 1).toString();
        assert.ok(out.staleText.includes(lastLine), 'the last line before the drop is in the resync data');
        // buffered: the last 64 KiB of output; screen: about one screen (24 × 80), not the history.
        if (backend === 'buffered') assert.ok(out.staleText.length > 60_000, `replay ${out.staleText.length} B`);
        else assert.ok(out.staleText.length < 24 * 80 + 200, `redraw ${out.staleText.length} B`);
        await channel.close();
      });
    });
  }

  describe('screen backend on the wire', () => {
    let harness: Harness;
    beforeEach(async () => (harness = await startHarness({ ptyDetachedTtlMs: 600, ptyBackend: 'screen' })));
    afterEach(async () => harness.close());

    it("a new session starts with screen's escapes and no newline; a re-attach redraws the visible rows", async () => {
      const { socket, out } = await rawSocket(harness, 'screen-raw');
      await waitFor(() => out.bytes.length > 0, 'attach output');
      const preamble = out.text;
      assert.ok(preamble.length >= 120 && preamble.length <= 200, `preamble ${preamble.length} B`);
      assert.ok(preamble.startsWith('\x1b[!p') && !preamble.includes('\n'));
      socket.send(Buffer.from(JSON.stringify({ data: `${'x'.repeat(150)}\n${'y'.repeat(20)}\n` })));
      await waitFor(() => out.text.length >= preamble.length + 174, 'echo');
      assert.strictEqual(out.text.slice(preamble.length), `${'x'.repeat(150)}\r\n${'y'.repeat(20)}\r\n`, 'live output is the plain echo');
      socket.terminate();

      const { socket: again, out: redraw } = await rawSocket(harness, 'screen-raw');
      await waitFor(() => redraw.text.includes('y'.repeat(20)), 'redraw');
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.ok(redraw.text.includes(`\x1b[H\x1b[2J${'x'.repeat(150)}\r\n${'y'.repeat(20)}\r\n`), JSON.stringify(redraw.text));
      const closed = closeOf(again);
      again.send(Buffer.from(JSON.stringify({ data: '\u0003' })));
      assert.strictEqual(await closed, 1000);
      assert.ok(redraw.text.endsWith('^C\x1b[?1l\x1b>\x1b[24;1H\r\n[screen is terminating]\r\n'), 'screen says goodbye');
    });
  });
});
