// One echo connection of a traffic stage (SSH, web terminal, app). Ticks follow a fixed
// schedule (t0 + n × interval) that starts at the connection's PLANNED open (the stage's ramp,
// plus its phase within the first interval), not when its handshake is done: a late timer sends
// every overdue tick at once, each keeping its scheduled time, and ticks due while the
// connection is not up yet (slow handshake, ramp-up) or down (reconnect) wait and go out once
// it is, so a slow connect shows up as latency instead of silently sending fewer ticks. Each
// handshake's own duration goes to the stage's connect histogram, and the first open's
// lateness against its plan (ready − planned open) to the open-lag one. The round trip is measured
// from the SCHEDULED send time, so a stall shows up as latency instead of as fewer samples
// (coordinated omission corrected, as in wrk2).
//
// Payload per tick: `<seq, 8 base36 digits>:<random alphanumerics>\n`, bytesPerTick long; the
// alphanumerics are a slice of the stage's PayloadPool at a random offset (one random draw per
// tick). The echo is read as lines (found with indexOf; a trailing `\r` dropped: a terminal
// echoes `\n` as `\r\n`), matched to the pending tick by its sequence number and compared byte
// for byte (natively, against the pool). Lines of already finished ticks are
// ignored. After a (re)attach the web terminal first shows stale output (a replay, screen's
// redraw), delivered as resync data: a line in it that completes a pending tick counts, every
// other line is counted as resynced, never as a mismatch.
import { performance } from 'perf_hooks';
import type { StageMetrics } from '../../metrics/stageMetrics';
import type { WorkspaceTally } from '../../metrics/workspaceTally';
import { PayloadPool } from '../../common/random';
import { TickRing } from './tickRing';
import { TickScheduler } from './tickScheduler';

/** The transport as the stage sees it; src/coder/echo.ts channels satisfy it. */
export interface EchoTransport {
  send(data: Buffer): void;
  /** The same payload as ASCII text, for transports that frame a string with fewer buffers (see src/coder/echo.ts). */
  sendText?(text: string): void;
  /**
   * send() is done with the buffer when it returns (it copied the bytes, or kept a copy of its
   * own): the session then builds every payload in one buffer of its own, reused tick after
   * tick, instead of a new one per tick.
   */
  readonly copiesPayload?: boolean;
  /** `resync`: stale output after a (re)attach (see src/coder/echo.ts), not compared strictly. */
  onData(listener: (data: Buffer, resync?: boolean) => void): void;
  onClose(listener: (info: { expected: boolean; code?: number; reason?: string }) => void): void;
  close(): void | Promise<void>;
}

export interface EchoSessionOptions {
  /** Opens the connection; `attempt` > 0 is a reconnect (the web terminal reuses its id). */
  open(attempt: number): Promise<EchoTransport>;
  bytesPerTick: number;
  tickIntervalMs: number;
  /** A tick whose echo has not arrived after this long is lost. */
  echoTimeoutMs: number;
  metrics: StageMetrics;
  /** This connection's workspace: the same figures counted for it alone (the report's "which workspace?"). */
  workspace?: WorkspaceTally;
  random: () => number;
  /** The stage's shared payload pool; default: a small one of this session's own. */
  pool?: PayloadPool;
  /** The stage's shared tick timers; default: this session's own. */
  scheduler?: TickScheduler;
  /** Told how late each tick went out after its scheduled time (ms), e.g. for the benchmark. */
  onSendLag?: (ms: number) => void;
  /** Called with a short description of connection errors (no secrets). */
  onProblem?: (message: string) => void;
}

const SEQ_DIGITS = 8;
/** Sequence digits and the ':' after them. */
const HEADER_BYTES = SEQ_DIGITS + 1;
const RECONNECT_DELAY_MS = 250;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const LOWER_A = 0x61;

function seqHeader(seq: number): string {
  return seq.toString(36).padStart(SEQ_DIGITS, '0').slice(-SEQ_DIGITS);
}

/** seqHeader's digits written into `buf` from 0, without a string. */
function writeSeqHeader(buf: Buffer, seq: number): void {
  for (let i = SEQ_DIGITS - 1; i >= 0; i--) {
    const digit = seq % 36;
    buf[i] = digit < 10 ? DIGIT_0 + digit : LOWER_A + digit - 10;
    seq = Math.floor(seq / 36);
  }
}

/**
 * The sequence number in `buf`'s first SEQ_DIGITS bytes from `start`, read as seqHeader writes
 * it (lowercase base 36, zero-padded); NaN for anything else. Strict where parseInt is not
 * ("12-x" is not 12), so a parsed header is always exactly the tick's own.
 */
function parseSeqHeader(buf: Buffer, start: number, end: number): number {
  if (end - start < SEQ_DIGITS) return NaN;
  let seq = 0;
  for (let i = start; i < start + SEQ_DIGITS; i++) {
    const byte = buf[i];
    let digit: number;
    if (byte >= DIGIT_0 && byte <= DIGIT_0 + 9) digit = byte - DIGIT_0;
    else if (byte >= LOWER_A && byte <= LOWER_A + 25) digit = byte - LOWER_A + 10;
    else return NaN;
    seq = seq * 36 + digit;
  }
  return seq;
}

export class EchoSession {
  private transport?: EchoTransport;
  private connected = false;
  private stopped = false;
  private attempt = 0;
  private startAt = 0;
  private plannedOpenAt?: number;
  /** False cancels the scheduled tick (a shared scheduler cannot take timers back). */
  private ticking = true;
  /** One callback for every tick of this session: no closure per tick. */
  private readonly onTick = () => {
    if (this.ticking) this.onTimer();
  };
  private readonly pool: PayloadPool;
  private readonly scheduler: TickScheduler;
  private readonly bodyBytes: number;
  /** Ticks due but not sent yet (connection down) and ticks waiting for their echo. */
  private readonly ticks = new TickRing();
  private readonly lineParts: Buffer[] = [];
  /** The payload buffer reused for a transport that copies what it sends (copiesPayload). */
  private payloadBuffer?: Buffer;
  private lineLength = 0;
  /** The data being read is resync data (a PTY's replay or redraw). */
  private resyncing = false;
  private drained?: () => void;
  private readonly listening = new WeakSet<EchoTransport>();

  constructor(private readonly options: EchoSessionOptions) {
    if (options.bytesPerTick < HEADER_BYTES + 2)
      throw new Error(`bytesPerTick must be at least ${HEADER_BYTES + 2} (sequence number, ":", payload, newline)`);
    this.bodyBytes = options.bytesPerTick - HEADER_BYTES - 1;
    this.pool =
      options.pool && options.pool.bytes.length >= this.bodyBytes
        ? options.pool
        : new PayloadPool(options.random, Math.max(4096, 4 * this.bodyBytes));
    this.scheduler = options.scheduler ?? new TickScheduler();
  }

  /**
   * Starts the schedule at `scheduleStart` (a `performance.now()` time, normally the first tick
   * at or after the planned open; default now), then opens the connection; once it is up, its
   * lateness against `plannedOpenAt` (default: now) is the stage's open lag. Rejects when the
   * first open fails; the schedule then stops and the ticks that waited for the connection are
   * dropped (the failed connect is the error that counts).
   */
  async start(scheduleStart = performance.now(), plannedOpenAt = performance.now()): Promise<void> {
    this.startAt = scheduleStart;
    this.plannedOpenAt = plannedOpenAt;
    this.scheduleNext();
    try {
      await this.connect();
    } catch (error) {
      this.ticking = false;
      this.ticks.clear();
      throw error;
    }
  }

  /** Stops the schedule, waits (bounded) for outstanding echoes, then closes. */
  async stop(drainTimeoutMs = 2000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ticking = false;
    if (this.ticks.pendingCount > 0 && this.connected) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, Math.min(drainTimeoutMs, this.options.echoTimeoutMs)).unref();
      });
    }
    this.expireAll('lost');
    if (this.connected) this.options.metrics.activeConnections--;
    this.connected = false;
    const transport = this.transport;
    this.transport = undefined;
    await transport?.close();
  }

  private async connect(): Promise<void> {
    const openedAt = performance.now();
    const transport = await this.options.open(this.attempt);
    const readyAt = performance.now();
    this.options.metrics.connectLatency.record(readyAt - openedAt);
    if (this.plannedOpenAt !== undefined) {
      this.options.metrics.openLag.record(Math.max(0, readyAt - this.plannedOpenAt));
      this.plannedOpenAt = undefined;
    }
    if (this.stopped) {
      await transport.close();
      return;
    }
    this.transport = transport;
    this.connected = true;
    this.options.metrics.activeConnections++;
    if (this.options.workspace) this.options.workspace.connects++;
    // A web terminal reconnects the same channel object, which keeps its listeners.
    if (this.listening.has(transport)) {
      this.flushUnsent();
      return;
    }
    this.listening.add(transport);
    transport.onData((data, resync) => this.receive(data, resync === true));
    transport.onClose((info) => {
      if (this.transport !== transport) return;
      this.transport = undefined;
      if (this.connected) this.options.metrics.activeConnections--;
      this.connected = false;
      if (info.expected || this.stopped) return;
      this.options.metrics.disconnects++;
      if (this.options.workspace) this.options.workspace.disconnects++;
      this.options.onProblem?.(
        `connection closed unexpectedly${info.code ? ` (code ${info.code})` : ''}${info.reason ? `: ${info.reason}` : ''}`,
      );
      this.reconnectSoon();
    });
    this.flushUnsent();
  }

  private reconnectSoon(): void {
    setTimeout(() => {
      if (this.stopped) return;
      this.attempt++;
      this.connect().then(
        () => {
          if (this.stopped) return;
          this.options.metrics.reconnects++;
          if (this.options.workspace) this.options.workspace.reconnects++;
        },
        (error: Error) => {
          this.countError('reconnect', 1);
          this.options.onProblem?.(`reconnect failed: ${error.message}`);
          this.reconnectSoon();
        },
      );
    }, RECONNECT_DELAY_MS).unref();
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    this.scheduler.at(this.startAt + this.ticks.nextSeq * this.options.tickIntervalMs, this.onTick);
  }

  private onTimer(): void {
    const now = performance.now();
    // Every tick whose time has come goes out now, each keeping its own scheduled time.
    const interval = this.options.tickIntervalMs;
    let scheduledAt = this.startAt + this.ticks.nextSeq * interval;
    while (scheduledAt <= now) {
      this.ticks.addUnsent(scheduledAt, this.pool.offset(this.bodyBytes));
      this.options.metrics.expected++;
      scheduledAt = this.startAt + this.ticks.nextSeq * interval;
    }
    this.expireOld(now);
    this.flushUnsent();
    this.scheduleNext();
  }

  /** `<seq>:<pool slice>\n` as text: a slice of the pool's text, no buffer of its own. */
  private payloadTextOf(seq: number, offset: number): string {
    return `${seqHeader(seq)}:${this.pool.text(offset, this.bodyBytes)}\n`;
  }

  /** `<seq>:<pool slice>\n`: one copy per tick, into a new buffer unless `reuse`. */
  private payloadOf(seq: number, offset: number, reuse: boolean): Buffer {
    const payload = reuse
      ? (this.payloadBuffer ??= Buffer.allocUnsafeSlow(this.options.bytesPerTick))
      : Buffer.allocUnsafe(this.options.bytesPerTick);
    writeSeqHeader(payload, seq);
    payload[SEQ_DIGITS] = COLON;
    // From the pool's text: Buffer#copy of a slice would make a view object per tick.
    payload.write(this.pool.text(offset, this.bodyBytes), HEADER_BYTES, this.bodyBytes, 'latin1');
    payload[payload.length - 1] = NEWLINE;
    return payload;
  }

  private flushUnsent(): void {
    const transport = this.transport;
    const ticks = this.ticks;
    if (!this.connected || !transport || ticks.unsentCount === 0) return;
    const metrics = this.options.metrics;
    const onSendLag = this.options.onSendLag;
    const now = onSendLag ? performance.now() : 0;
    const reuse = transport.copiesPayload === true;
    const workspace = this.options.workspace;
    while (ticks.unsentCount > 0) {
      const seq = ticks.firstUnsent;
      const offset = ticks.offsetOf(seq);
      onSendLag?.(now - ticks.scheduledAtOf(seq));
      ticks.markSent();
      if (transport.sendText) transport.sendText(this.payloadTextOf(seq, offset));
      else transport.send(this.payloadOf(seq, offset, reuse));
      metrics.sent++;
      metrics.bytesSent += this.options.bytesPerTick;
      if (workspace) workspace.bytesSent += this.options.bytesPerTick;
    }
  }

  private receive(data: Buffer, resync: boolean): void {
    this.options.metrics.bytesReceived += data.length;
    if (this.options.workspace) this.options.workspace.bytesReceived += data.length;
    if (resync && !this.resyncing) {
      // A new attach: a line cut off by the drop is never completed.
      this.lineParts.length = 0;
      this.lineLength = 0;
    }
    this.resyncing = resync;
    let start = 0;
    // Where the next '\r' is (-1: none in the rest of the chunk): found once per chunk, not per line.
    let carriageReturn = data.indexOf(CARRIAGE_RETURN);
    for (let end = data.indexOf(NEWLINE); end !== -1; end = data.indexOf(NEWLINE, start)) {
      if (this.lineLength > 0) {
        // The line began in an earlier chunk: joined into one buffer (a copy), then checked.
        this.appendLinePart(data.subarray(start, end));
        const line = this.takeLine();
        this.checkLine(line, 0, line.length, line.includes(CARRIAGE_RETURN));
      } else {
        // The whole line is in this chunk (the usual case): checked where it is, no view, no copy.
        if (carriageReturn !== -1 && carriageReturn < start) carriageReturn = data.indexOf(CARRIAGE_RETURN, start);
        this.checkLine(data, start, end, carriageReturn !== -1 && carriageReturn < end);
      }
      start = end + 1;
    }
    if (start < data.length) this.appendLinePart(start === 0 ? data : data.subarray(start));
    if (this.lineLength > this.options.bytesPerTick * 4) {
      // No newline where one was due: the stream is not what was sent.
      if (this.resyncing) this.options.metrics.resynced++;
      else this.countMismatch();
      this.lineParts.length = 0;
      this.lineLength = 0;
    }
  }

  private appendLinePart(part: Buffer): void {
    if (part.length === 0) return;
    this.lineParts.push(part);
    this.lineLength += part.length;
  }

  /** The line's parts so far as one buffer (a copy only when it came in several). */
  private takeLine(): Buffer {
    const parts = this.lineParts;
    const line = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.lineLength);
    parts.length = 0;
    this.lineLength = 0;
    return line;
  }

  /** Checks the line `buf[start, end)` (its '\n' cut off) against the pending ticks. */
  private checkLine(buf: Buffer, start: number, end: number, hasCarriageReturn: boolean): void {
    if (hasCarriageReturn) {
      // A terminal's '\r\n', or stray '\r's: the line without them (a copy; rare).
      const line = buf.subarray(start, end).filter((byte) => byte !== CARRIAGE_RETURN);
      buf = Buffer.from(line.buffer, line.byteOffset, line.length);
      start = 0;
      end = buf.length;
    }
    const length = end - start;
    if (length === 0) return;
    const seq = parseSeqHeader(buf, start, end);
    const ticks = this.ticks;
    const pending = !Number.isNaN(seq) && ticks.isPending(seq);
    // The header parsed strictly is the tick's own (seqHeader's digits); then the rest, byte for byte.
    const offset = pending ? ticks.offsetOf(seq) : 0;
    const matches =
      pending &&
      length === this.options.bytesPerTick - 1 &&
      buf[start + SEQ_DIGITS] === COLON &&
      buf.compare(this.pool.bytes, offset, offset + this.bodyBytes, start + HEADER_BYTES, end) === 0;
    if (this.resyncing) {
      // Stale output: a pending tick's whole echo in it counts, anything else is skipped.
      if (!matches) {
        this.options.metrics.resynced++;
        return;
      }
    } else if (!pending) {
      // The late echo of an expired tick was already counted as lost; anything else is wrong.
      if (Number.isNaN(seq) || seq >= ticks.nextSeq || length <= SEQ_DIGITS || buf[start + SEQ_DIGITS] !== COLON) this.countMismatch();
      return;
    }
    const scheduledAt = ticks.scheduledAtOf(seq);
    ticks.settle(seq);
    if (!matches) {
      this.countMismatch();
      return;
    }
    this.options.metrics.completed++;
    const roundTrip = performance.now() - scheduledAt;
    this.options.metrics.latency.record(roundTrip);
    this.options.workspace?.record(roundTrip);
    if (this.drained && ticks.pendingCount === 0) this.drained();
  }

  private expireOld(now: number): void {
    const expired = this.ticks.expire(now - this.options.echoTimeoutMs);
    if (expired.pending > 0) this.countError('echo_timeout', expired.pending);
    if (expired.unsent > 0) this.countError('not_sent', expired.unsent);
  }

  private expireAll(kind: string): void {
    const lost = this.ticks.pendingCount + this.ticks.unsentCount;
    if (lost > 0) this.countError(kind, lost);
    this.ticks.clear();
  }

  /** Counted for the stage and for this connection's workspace. */
  private countError(kind: string, n: number): void {
    for (let i = 0; i < n; i++) this.options.metrics.countError(kind);
    this.options.workspace?.countError(kind, n);
  }

  private countMismatch(): void {
    this.options.metrics.mismatches++;
    if (this.options.workspace) this.options.workspace.mismatches++;
  }
}
