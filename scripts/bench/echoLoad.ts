// Echo load for the benchmark: the engine's EchoSession over the real channels, and the floor —
// a minimal hand-written ws / ssh2 loop doing the same traffic on the same target (one timer
// per connection, a random pool, echoes checked with indexOf + compare). No timings asserted.
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Client } from 'ssh2';
import WebSocket from 'ws';
import { openAppEchoChannel } from '../../src/coder/apps';
import { openPtyEchoChannel, ptyPath } from '../../src/coder/pty';
import { openSshEchoChannel, sshEchoCommand } from '../../src/coder/ssh';
import { EchoSession, type EchoTransport } from '../../src/engine/stages/echo/session';
import { StageMetrics } from '../../src/engine/metrics/stageMetrics';
import { PayloadPool, seededRandom } from '../../src/engine/common/random';
import { TickScheduler, tickPhaseMs } from '../../src/engine/stages/echo/tickScheduler';

export type EchoKind = 'pty' | 'apps' | 'ssh';

export interface Target {
  url: string;
  token: string;
  agentId: string;
  agentName: string;
  owner: string;
  workspace: string;
  ssh: { host: string; port: number };
  delayUrl: string;
}

export interface LoadFigures {
  connections: number;
  seconds: number;
  echoes: number;
  mismatches: number;
  errors: number;
  cpuSeconds: number;
  cpuSecondsPer100kEchoes: number;
  /** Cores the echo target process used in the measured window (when its pid was given). */
  targetCpuShare?: number;
  sendLagP99Ms: number;
  /** The send lag's p99 in each second of the measured window (a machine's stall spoils one second, an overload every one). */
  sendLagP99PerSecondMs: number[];
  rttP50Ms: number;
  rttP95Ms: number;
  rttP99Ms: number;
  rssBeforeMiB: number;
  rssConnectedMiB: number;
  rssPerConnectionKiB: number;
  /** Heap + external buffers per connection (steadier than RSS when runs follow each other in one process). */
  heapPerConnectionKiB: number;
  rssSamplesMiB: number[];
  /** Garbage collections in the measured window: major = mark-compact (the pauses behind lag spikes). */
  gc: { minor: number; major: number; pauseMs: number; longestMs: number };
  /** Percentiles over every echo of the run, warm-up and drain included. */
  wholeRun?: { p50: number; p95: number; p99: number; count: number };
}

export interface LoadOptions {
  kind: EchoKind | 'delay';
  connections: number;
  seconds: number;
  bytesPerTick: number;
  tickIntervalMs: number;
  floor: boolean;
  /** Sample RSS every second (steady-run figure). */
  sampleRss?: boolean;
  /** Payloads as Buffers even where the transport takes text (the engine's send path before sendText). */
  bufferPath?: boolean;
  /** Every connection in the same phase (the engine's schedule before phases were spread). */
  lockstep?: boolean;
  /** The echo target's process: its CPU over the measured window is reported beside ours. */
  targetPid?: number;
  /** No RSS figures (a capacity step): no collection forced after the window either. */
  skipMemory?: boolean;
  /** Told when the measured window starts and ends (the capacity search's machine probe). */
  window?: { start(): void; end(): void };
}

const CONNECT_CONCURRENCY = 16;
/** Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times (100 on every common build). */
const CLOCK_TICKS_PER_SECOND = 100;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rssMiB = () => {
  gc();
  return process.memoryUsage().rss / 1048576;
};
/** JS heap plus buffers outside it, after GC: unlike RSS it goes back down when a run's memory is freed. */
const heapMiB = () => {
  gc();
  const usage = process.memoryUsage();
  return (usage.heapUsed + usage.external) / 1048576;
};
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const newHistogram = () => hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });

/** How late each send went out (µs): over the whole measured window and per second. */
class SendLag {
  readonly whole = newHistogram();
  private readonly second = newHistogram();

  record(ms: number): void {
    const micros = Math.max(1, Math.round(ms * 1000));
    this.whole.recordValue(micros);
    this.second.recordValue(micros);
  }

  reset(): void {
    this.whole.reset();
    this.second.reset();
  }

  /** The p99 (ms) of the sends since the last call, or undefined when there were none. */
  takeSecondP99(): number | undefined {
    const p99 = this.second.totalCount > 0 ? this.second.getValueAtPercentile(99) / 1000 : undefined;
    this.second.reset();
    return p99;
  }
}

async function inBatches<T>(count: number, open: (index: number) => Promise<T>): Promise<T[]> {
  const opened: T[] = [];
  for (let i = 0; i < count; i += CONNECT_CONCURRENCY) {
    opened.push(...(await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count - i) }, (_, k) => open(i + k)))));
  }
  return opened;
}

function engineOpener(target: Target, kind: EchoKind | 'delay', bytesPerTick: number): () => Promise<EchoTransport> {
  const connection = { url: target.url, token: target.token };
  switch (kind) {
    case 'pty':
      return () =>
        openPtyEchoChannel({
          connection,
          agentId: target.agentId,
          width: 80,
          height: 24,
          command: `dd if=/dev/stdin of=/dev/null bs=${bytesPerTick} status=none`,
          closeTimeoutMs: 2000,
        });
    case 'apps':
      return () =>
        openAppEchoChannel({
          connection,
          owner: target.owner,
          workspace: target.workspace,
          agent: target.agentName,
          slug: 'wsec',
          closeTimeoutMs: 2000,
        });
    case 'ssh':
      return () =>
        openSshEchoChannel({
          transport: { kind: 'tcp', host: target.ssh.host, port: target.ssh.port, username: `${target.owner}/${target.workspace}` },
          bytesPerTick,
          closeTimeoutMs: 2000,
        });
    case 'delay':
      return () => plainWebSocket(target.delayUrl);
  }
}

/** A bare WebSocket as an echo transport (the delay target speaks plain echo). */
function plainWebSocket(url: string): Promise<EchoTransport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        send: (data) => socket.send(data, { binary: true }),
        onData: (listener) => socket.on('message', (data: Buffer) => listener(data)),
        onClose: (listener) => socket.on('close', (code: number) => listener({ expected: true, code })),
        close: () => socket.close(),
      }),
    );
  });
}

/** Runs the engine's sessions: connect all, then `seconds` of traffic measured after a 1 s warm-up. */
export async function runEngine(target: Target, options: LoadOptions): Promise<LoadFigures> {
  const metrics = new StageMetrics(options.kind === 'delay' ? 'apps' : options.kind, options.kind);
  const random = seededRandom(1);
  const pool = new PayloadPool(random);
  const scheduler = new TickScheduler();
  const sendLag = new SendLag();
  const open = engineOpener(target, options.kind, options.bytesPerTick);
  const rssBefore = rssMiB();
  const heapBefore = heapMiB();
  // Connect first, then one schedule for all (the capacity is about traffic, not handshakes).
  const opened = await inBatches(options.connections, () => open());
  // The Buffer send path (before sendText): the same transport without its text path.
  const transports = options.bufferPath ? opened.map((transport) => ({ ...transport, sendText: undefined })) : opened;
  const sessions = transports.map(
    (transport) =>
      new EchoSession({
        open: (attempt) => (attempt === 0 ? Promise.resolve(transport) : open()),
        bytesPerTick: options.bytesPerTick,
        tickIntervalMs: options.tickIntervalMs,
        echoTimeoutMs: 10_000,
        metrics,
        random,
        pool,
        scheduler,
        onSendLag: (ms) => sendLag.record(ms),
      }),
  );
  // Phases spread over the interval as runEchoStage spreads them (tickPhaseMs).
  const scheduleStart = performance.now() + 100;
  await Promise.all(
    sessions.map((session, index) =>
      session.start(scheduleStart + (options.lockstep ? 0 : tickPhaseMs(index, sessions.length, options.tickIntervalMs))),
    ),
  );
  return measure(
    options,
    rssBefore,
    heapBefore,
    sendLag,
    () => ({ echoes: metrics.completed, mismatches: metrics.mismatches, errors: metrics.errorTotal() }),
    { reset: () => metrics.rollInterval(), read: () => metrics.latency.takeInterval() },
    async () => {
      await Promise.all(sessions.map((session) => session.stop(1000)));
    },
  ).then((figures) => {
    const whole = metrics.latency.summary();
    return { ...figures, wholeRun: { p50: whole.p50, p95: whole.p95, p99: whole.p99, count: whole.count } };
  });
}

async function measure(
  options: LoadOptions,
  rssBefore: number,
  heapBefore: number,
  sendLag: SendLag,
  counts: () => { echoes: number; mismatches: number; errors: number },
  rtt: { reset(): void; read(): { p50: number; p95: number; p99: number } },
  stop: () => Promise<void>,
): Promise<LoadFigures> {
  // Warm-up: every connection sending, V8's heap sized to the traffic. Nothing forces a
  // collection from here to the end of the window: a forced full collection resets V8's heap
  // limits and set off a mark-compact about every second for the rest of the step (see
  // docs/bench.md), in the engine and the floor alike.
  await sleep(options.seconds < 3 ? 500 : 2000);
  sendLag.reset();
  rtt.reset();
  const before = counts();
  options.window?.start();
  const cpuBefore = process.cpuUsage();
  const targetCpuBefore = options.targetPid ? processCpuSeconds(options.targetPid) : 0;
  const samples: number[] = [];
  const lagPerSecond: number[] = [];
  const gcs = { minor: 0, major: 0, pauseMs: 0, longestMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
      gcs.pauseMs += entry.duration;
      gcs.longestMs = Math.max(gcs.longestMs, entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const perSecond = setInterval(() => {
    const p99 = sendLag.takeSecondP99();
    if (p99 !== undefined) lagPerSecond.push(round(p99));
    if (options.sampleRss) samples.push(round(process.memoryUsage().rss / 1048576, 1));
  }, 1000);
  await sleep(options.seconds * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  options.window?.end();
  const targetCpuSeconds = options.targetPid ? processCpuSeconds(options.targetPid) - targetCpuBefore : undefined;
  const after = counts();
  clearInterval(perSecond);
  // The observer's entries arrive on a later turn of the loop: take the window's last ones first.
  await new Promise((resolve) => setImmediate(resolve));
  gcObserver.disconnect();
  // Memory with every connection up and its traffic flowing, after the window (it forces collections).
  const rssConnected = options.skipMemory ? rssBefore : rssMiB();
  const heapConnected = options.skipMemory ? heapBefore : heapMiB();
  await stop();
  const echoes = after.echoes - before.echoes;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const percentiles = rtt.read();
  return {
    connections: options.connections,
    seconds: options.seconds,
    echoes,
    mismatches: after.mismatches - before.mismatches,
    errors: after.errors - before.errors,
    cpuSeconds: round(cpuSeconds),
    cpuSecondsPer100kEchoes: echoes > 0 ? round((cpuSeconds / echoes) * 1e5) : 0,
    targetCpuShare: targetCpuSeconds === undefined ? undefined : round(targetCpuSeconds / options.seconds),
    sendLagP99Ms: round(sendLag.whole.getValueAtPercentile(99) / 1000),
    sendLagP99PerSecondMs: lagPerSecond,
    gc: { ...gcs, pauseMs: round(gcs.pauseMs), longestMs: round(gcs.longestMs) },
    rttP50Ms: round(percentiles.p50),
    rttP95Ms: round(percentiles.p95),
    rttP99Ms: round(percentiles.p99),
    rssBeforeMiB: round(rssBefore, 1),
    rssConnectedMiB: round(rssConnected, 1),
    rssPerConnectionKiB: round(((rssConnected - rssBefore) * 1024) / options.connections, 1),
    heapPerConnectionKiB: round(((heapConnected - heapBefore) * 1024) / options.connections, 1),
    rssSamplesMiB: samples,
  };
}

/**
 * The floor: the same traffic from a minimal hand-written loop — what one would write to see
 * what the transport itself costs. Per connection: one payload (fixed at the start, random
 * alphanumerics + '\n'), one `setTimeout` chain at the engine's phase, the same write call
 * the engine's channel makes, and echoes counted, not checked: every `bytesPerTick` bytes back
 * (a web terminal: every '\n', as it turns '\n' into '\r\n') is the oldest outstanding send
 * echoed, its round trip taken from that send's scheduled time. The engine does more per echo
 * (a payload per tick, each echo matched and compared): the cost figure shows what that adds.
 */
export async function runFloor(target: Target, options: LoadOptions): Promise<LoadFigures> {
  const random = seededRandom(2);
  const pool = new PayloadPool(random);
  const size = options.bytesPerTick;
  const rtt = newHistogram();
  // Every echo of the run, warm-up and drain included (the accuracy figure compares all of them).
  const rttWhole = newHistogram();
  const sendLag = new SendLag();
  const counts = { echoes: 0, mismatches: 0, errors: 0 };
  const rssBefore = rssMiB();
  const heapBefore = heapMiB();
  const conns = await inBatches(options.connections, () => openFloorConnection(target, options.kind, size));
  let stopped = false;
  const scheduleStart = performance.now() + 200;
  for (const [index, conn] of conns.entries()) {
    const offset = pool.offset(size - 1);
    const payload = Buffer.concat([pool.bytes.subarray(offset, offset + size - 1), Buffer.from('\n')]);
    const frame = conn.frame(payload);
    // The same phases as the engine's connections (the same traffic).
    const start = scheduleStart + tickPhaseMs(index, conns.length, options.tickIntervalMs);
    // Scheduled times of the sends not echoed yet, oldest first.
    const due: number[] = [];
    let head = 0;
    let seq = 0;
    let bytesBack = 0;
    const echoed = () => {
      const micros = Math.max(1, Math.round((performance.now() - due[head++]) * 1000));
      if (head === due.length) due.length = head = 0;
      counts.echoes++;
      rtt.recordValue(micros);
      rttWhole.recordValue(micros);
    };
    conn.onData(
      conn.countsLines
        ? (data) => {
            for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, nl + 1)) if (head < due.length) echoed();
          }
        : (data) => {
            bytesBack += data.length;
            for (; bytesBack >= size && head < due.length; bytesBack -= size) echoed();
          },
    );
    const tick = () => {
      if (stopped) return;
      const now = performance.now();
      for (let at = start + seq * options.tickIntervalMs; at <= now; at = start + seq * options.tickIntervalMs) {
        due.push(at);
        sendLag.record(now - at);
        conn.send(frame);
        seq++;
      }
      setTimeout(tick, start + seq * options.tickIntervalMs - performance.now());
    };
    setTimeout(tick, start - performance.now());
  }
  const rttOf = {
    reset: () => rtt.reset(),
    read: () => ({
      p50: rtt.getValueAtPercentile(50) / 1000,
      p95: rtt.getValueAtPercentile(95) / 1000,
      p99: rtt.getValueAtPercentile(99) / 1000,
    }),
  };
  const figures = await measure(
    options,
    rssBefore,
    heapBefore,
    sendLag,
    () => ({ ...counts }),
    rttOf,
    async () => {
      if (stopped) return;
      stopped = true;
      // Outstanding echoes come back before the sockets close (as the engine's sessions drain).
      await sleep(Math.min(1000, 5 * options.tickIntervalMs));
      for (const conn of conns) conn.close();
    },
  );
  const whole = (p: number) => rttWhole.getValueAtPercentile(p) / 1000;
  return { ...figures, wholeRun: { p50: whole(50), p95: whole(95), p99: whole(99), count: rttWhole.totalCount } };
}

/** One connection of the floor: the transport's own client, nothing in between. */
interface FloorConnection {
  /** What goes on the wire for a payload, built once: the web terminal's JSON frame, else the payload. */
  frame(payload: Buffer): Buffer;
  send(frame: Buffer): void;
  onData(listener: (data: Buffer) => void): void;
  /** The echo is counted by '\n' (a terminal adds '\r'), else by bytes. */
  countsLines: boolean;
  close(): void;
}

function openFloorConnection(target: Target, kind: EchoKind | 'delay', size: number): Promise<FloorConnection> {
  if (kind === 'ssh') {
    return new Promise((resolve, reject) => {
      const client = new Client();
      client.once('error', reject);
      client.once('ready', () =>
        client.exec(sshEchoCommand(size), (error, channel) => {
          if (error) return reject(error);
          resolve({
            frame: (payload) => payload,
            send: (frame) => channel.write(frame),
            onData: (listener) => channel.on('data', listener),
            countsLines: false,
            close: () => client.end(),
          });
        }),
      );
      // The engine's socket settings and ssh2's default algorithms, as the engine has them (see src/coder/ssh.ts).
      client.connect({
        host: target.ssh.host,
        port: target.ssh.port,
        username: `${target.owner}/${target.workspace}`,
        hostVerifier: () => true,
      });
      client.setNoDelay(true);
    });
  }
  const path =
    kind === 'pty'
      ? ptyPath(target.agentId, {
          reconnectId: randomUUID(),
          width: 80,
          height: 24,
          command: `dd if=/dev/stdin of=/dev/null bs=${size} status=none`,
        })
      : `/@${target.owner}/${target.workspace}.${target.agentName}/apps/wsec/`;
  const url = kind === 'delay' ? target.delayUrl : `${target.url.replace('http', 'ws')}${path}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { 'Coder-Session-Token': target.token }, perMessageDeflate: false });
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        frame: (payload) => (kind === 'pty' ? Buffer.from(JSON.stringify({ data: payload.toString('latin1') })) : payload),
        send: (frame) => socket.send(frame, { binary: true }),
        onData: (listener) => socket.on('message', listener),
        countsLines: kind === 'pty',
        close: () => socket.terminate(),
      }),
    );
  });
}

/** User + system CPU seconds of a process (Linux /proc; 0 where there is none). */
function processCpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
