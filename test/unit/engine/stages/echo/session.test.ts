import * as assert from 'assert';
import { performance } from 'perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import { EchoSession, type EchoTransport } from '../../../../../src/engine/stages/echo/session';
import { StageMetrics } from '../../../../../src/engine/metrics/stageMetrics';

/** A real WebSocket echo server on loopback whose echo can be held back (a stalled connection). */
async function startEchoServer(): Promise<{
  url: string;
  holdFor(ms: number): void;
  corruptNext(): void;
  dropAll(): void;
  close(): Promise<void>;
}> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  let heldUntil = 0;
  let corrupt = false;
  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      const echo = Buffer.from(data);
      if (corrupt) {
        echo[12] = echo[12] === 0x41 ? 0x42 : 0x41;
        corrupt = false;
      }
      const delay = Math.max(0, heldUntil - Date.now());
      if (delay > 0) setTimeout(() => socket.send(echo), delay);
      else socket.send(echo);
    });
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    holdFor: (ms) => (heldUntil = Date.now() + ms),
    corruptNext: () => (corrupt = true),
    dropAll: () => server.clients.forEach((client) => client.terminate()),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function openWs(url: string): Promise<EchoTransport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    let closing = false;
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        send: (data) => socket.send(data),
        onData: (listener) => socket.on('message', (data: Buffer) => listener(data)),
        onClose: (listener) => socket.on('close', (code) => listener({ expected: closing, code })),
        close: () => {
          closing = true;
          socket.close();
        },
      }),
    );
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('echo session (scheduled ticks, RTT from scheduled time)', () => {
  let server: Awaited<ReturnType<typeof startEchoServer>>;
  beforeEach(async () => (server = await startEchoServer()));
  afterEach(async () => server.close());

  function session(metrics: StageMetrics) {
    return new EchoSession({
      open: () => openWs(server.url),
      bytesPerTick: 64,
      tickIntervalMs: 20,
      echoTimeoutMs: 5000,
      metrics,
      random: Math.random,
    });
  }

  it('a stalled echo shows up as latency, not as fewer samples', async () => {
    const metrics = new StageMetrics('ssh', 'SSH');
    const echo = session(metrics);
    await echo.start();
    await sleep(200);
    server.holdFor(400);
    await sleep(600);
    await echo.stop();
    const latency = metrics.latency.summary();
    assert.strictEqual(metrics.mismatches, 0);
    assert.strictEqual(metrics.completed, metrics.expected, 'every scheduled tick completed');
    assert.ok(metrics.expected >= 30, `expected ticks ${metrics.expected}`);
    assert.ok(latency.max >= 350, `the stall is in the latency (max ${latency.max} ms)`);
    assert.strictEqual(metrics.activeConnections, 0);
  });

  it('a blocked event loop does not skip ticks; their RTT counts from the scheduled time', async () => {
    const metrics = new StageMetrics('pty', 'Web terminal');
    const echo = session(metrics);
    await echo.start();
    await sleep(100);
    const blockedUntil = Date.now() + 300;
    while (Date.now() < blockedUntil) {
      // busy: timers cannot fire
    }
    await sleep(150);
    await echo.stop();
    assert.strictEqual(metrics.completed, metrics.expected);
    assert.ok(metrics.expected >= 25, `ticks during the block were still scheduled (${metrics.expected})`);
    assert.ok(metrics.latency.summary().max >= 250, `max ${metrics.latency.summary().max}`);
  });

  it('counts corrupted echoes as mismatches and drops as disconnects, then reconnects', async () => {
    const metrics = new StageMetrics('apps', 'Apps');
    const echo = session(metrics);
    await echo.start();
    await sleep(100);
    server.corruptNext();
    await sleep(100);
    server.dropAll();
    await sleep(600);
    assert.strictEqual(metrics.activeConnections, 1, 'reconnected');
    await echo.stop();
    assert.strictEqual(metrics.mismatches, 1);
    assert.strictEqual(metrics.disconnects, 1);
    assert.strictEqual(metrics.reconnects, 1);
    assert.ok(metrics.completed > 20);
  });

  it('the schedule starts at the stage start: ticks due during a slow handshake wait and count their delay', async () => {
    const metrics = new StageMetrics('ssh', 'SSH');
    const stageStart = performance.now();
    const echo = new EchoSession({
      // A handshake that takes 300 ms (a slow key exchange or CLI start-up).
      open: () => sleep(300).then(() => openWs(server.url)),
      bytesPerTick: 64,
      tickIntervalMs: 20,
      echoTimeoutMs: 5000,
      metrics,
      random: Math.random,
    });
    await echo.start(stageStart);
    await sleep(100);
    await echo.stop();
    // Ticks from the stage start on, not from the end of the handshake: ~400 ms / 20 ms.
    assert.ok(metrics.expected >= 18, `ticks scheduled from the stage start (${metrics.expected})`);
    assert.strictEqual(metrics.completed, metrics.expected, 'the ticks that waited were sent once connected');
    assert.ok(metrics.latency.summary().max >= 250, `the first tick waited for the handshake (max ${metrics.latency.summary().max} ms)`);
    const connect = metrics.connectLatency.summary();
    assert.strictEqual(connect.count, 1);
    assert.ok(connect.max >= 280, `the handshake is in the connect histogram (${connect.max} ms)`);
    assert.strictEqual(metrics.snapshot().connectLatency?.count, 1);
  });

  it('a first connect that fails stops the schedule and sends nothing', async () => {
    const metrics = new StageMetrics('apps', 'Apps');
    const echo = new EchoSession({
      open: () => sleep(100).then(() => Promise.reject(new Error('refused'))),
      bytesPerTick: 64,
      tickIntervalMs: 20,
      echoTimeoutMs: 5000,
      metrics,
      random: Math.random,
    });
    await assert.rejects(echo.start(), /refused/);
    const expectedAtFailure = metrics.expected;
    await sleep(100);
    assert.strictEqual(metrics.expected, expectedAtFailure, 'no ticks after the failure');
    assert.strictEqual(metrics.sent, 0);
    assert.strictEqual(metrics.connectLatency.count(), 0, 'a failed handshake is an error, not a connect time');
    await echo.stop();
  });
});

/**
 * A mock transport (no socket): echoes what was sent after a turn of the event loop, cut into
 * pieces of the given sizes in turn — so a piece may hold part of a line, or the end of one and
 * the start of the next — optionally as a terminal would show it ('\r\n') and with one byte of a
 * chosen echo changed. `copies` says it copies what it is sent (copiesPayload).
 */
function rechunkingEchoMock(options: {
  pieceSizes: number[];
  crlf?: boolean;
  copies?: boolean;
  /** Changes byte `at` of echo number `echo` (0-based) to `to`. */
  corrupt?: { echo: number; at: number; to: number };
}): { transport: EchoTransport; sentBuffers: Buffer[] } {
  const listeners: Array<(data: Buffer) => void> = [];
  const sentBuffers: Buffer[] = [];
  let backlog = Buffer.alloc(0);
  let piece = 0;
  let echoes = 0;
  let flushing = false;
  const flush = () => {
    flushing = false;
    while (backlog.length > 0) {
      const size = Math.min(backlog.length, options.pieceSizes[piece++ % options.pieceSizes.length]);
      const chunk = backlog.subarray(0, size);
      backlog = backlog.subarray(size);
      for (const listener of listeners) listener(chunk);
    }
  };
  const transport: EchoTransport = {
    send: (data) => {
      sentBuffers.push(data);
      let echo = Buffer.from(data);
      if (options.corrupt?.echo === echoes) echo[options.corrupt.at] = options.corrupt.to;
      echoes++;
      if (options.crlf) echo = Buffer.from(echo.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
      backlog = Buffer.concat([backlog, echo]);
      // A little later than the next tick: a flush may join the end of one echo with the next.
      if (!flushing) {
        flushing = true;
        setTimeout(flush, 7);
      }
    },
    copiesPayload: options.copies,
    onData: (listener) => listeners.push(listener),
    onClose: () => {},
    close: () => flush(),
  };
  return { transport, sentBuffers };
}

describe('echo session: reading echoes back', () => {
  async function run(mock: ReturnType<typeof rechunkingEchoMock>, bytesPerTick = 64) {
    const metrics = new StageMetrics('ssh', 'SSH');
    const echo = new EchoSession({
      open: () => Promise.resolve(mock.transport),
      bytesPerTick,
      tickIntervalMs: 5,
      echoTimeoutMs: 5000,
      metrics,
      random: Math.random,
    });
    await echo.start();
    await sleep(120);
    // A changed header leaves its tick waiting: no need to wait long for it.
    await echo.stop(100);
    return metrics;
  }

  it('matches every echo however the stream is cut: pieces of 1 byte, mid-line, across lines', async () => {
    for (const pieceSizes of [[1], [7, 3, 50], [64], [63, 65], [200], [5, 500]]) {
      const metrics = await run(rechunkingEchoMock({ pieceSizes }));
      assert.ok(metrics.expected >= 10, `ticks sent (${metrics.expected})`);
      assert.strictEqual(metrics.mismatches, 0, `no mismatch with pieces ${pieceSizes}`);
      assert.strictEqual(metrics.completed, metrics.expected, `every echo matched with pieces ${pieceSizes}`);
    }
  });

  it("drops a terminal's '\\r' before '\\n', also when it ends a piece", async () => {
    for (const pieceSizes of [[64], [65], [3, 11]]) {
      const metrics = await run(rechunkingEchoMock({ pieceSizes, crlf: true }));
      assert.strictEqual(metrics.mismatches, 0, `pieces ${pieceSizes}`);
      assert.strictEqual(metrics.completed, metrics.expected, `pieces ${pieceSizes}`);
    }
  });

  it('reuses one payload buffer for a transport that copies, with the same bytes on the wire', async () => {
    const copying = rechunkingEchoMock({ pieceSizes: [64], copies: true });
    const metrics = await run(copying);
    assert.strictEqual(metrics.completed, metrics.expected);
    assert.ok(copying.sentBuffers.length >= 10);
    assert.strictEqual(new Set(copying.sentBuffers).size, 1, 'one buffer for every send');
    const fresh = rechunkingEchoMock({ pieceSizes: [64] });
    await run(fresh);
    assert.strictEqual(new Set(fresh.sentBuffers).size, fresh.sentBuffers.length, 'a new buffer per send otherwise');
  });

  it('counts an echo whose body or sequence header was changed as a mismatch', async () => {
    // A body byte, a header digit made uppercase ('0' → 'A' is not how headers are written), and
    // a header digit that is no base-36 digit at all.
    for (const [at, to] of [
      [20, 0x2a],
      [7, 0x41],
      [3, 0x2d],
    ]) {
      const metrics = await run(rechunkingEchoMock({ pieceSizes: [64], corrupt: { echo: 2, at, to } }));
      assert.strictEqual(metrics.mismatches, 1, `byte ${at} changed to ${String.fromCharCode(to)}`);
    }
  });
});
