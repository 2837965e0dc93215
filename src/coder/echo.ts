// One transport interface for every echo stage (SSH, web terminal, workspace apps), so the
// engine schedules ticks, sends payloads and matches echoes the same way for each of them.
//
// What comes back, per transport (the engine sends random printable characters + '\n'):
// - PTY (openPtyEchoChannel): the terminal's own echo of the input. A terminal in cooked mode
//   turns '\n' into '\r\n' (onlcr), and a `screen`-backed session adds escape sequences; by
//   default the channel removes both (TerminalTextFilter), so the fresh bytes delivered to
//   onData equal the bytes sent. Each (re)attach first shows something else: the buffered
//   backend replays up to 64 KiB of earlier output, the screen backend sends its start-up
//   escapes and a redraw of the screen. The channel sends a unique marker line right after
//   attaching and delivers everything before the marker's echo with `resync = true` (ended by
//   a '\n'); from the marker on, data is fresh again. The cost is linear in what arrives.
// - SSH (openSshEchoChannel): `dd if=/dev/stdin of=/dev/stdout` echoes stdin byte for byte.
// - Apps (openAppEchoChannel): the echo app returns each binary WebSocket frame as sent.
// In every case chunk boundaries carry no meaning: onData may split or join payloads.
//
// How each one closes: PTY — close() sends Ctrl-C and waits for EOF (close code 1000); a drop
// shows as 1006 (no close frame); 1003 / 1009 mean a text / oversized frame was sent. SSH —
// close() sends SIGHUP, ends stdin and waits; `code` is the remote exit status when there is
// one. Apps — close() does the WebSocket close handshake (1000); a drop shows as 1006.
// close() waits at most 30 s by default (closeTimeoutMs), then cuts the connection.
export interface EchoCloseInfo {
  /** True when close() asked for it; false for drops, resets and server-side closes. */
  expected: boolean;
  /** WebSocket close code or process/SSH exit code, when there is one. */
  code?: number;
  reason: string;
}

export interface EchoChannel {
  /** Sends one payload. Throws when the channel is closed. */
  send(payload: Buffer): void;
  /**
   * Sends one ASCII text payload, where the channel frames a string with fewer buffers than a
   * Buffer (a WebSocket masks a string's bytes in place; a Buffer it must copy). Optional.
   */
  sendText?(text: string): void;
  /** send() is done with the buffer when it returns (see EchoTransport.copiesPayload). */
  readonly copiesPayload?: boolean;
  /** `resync` marks bytes a PTY shows after a (re)attach before its output is fresh again. */
  onData(callback: (chunk: Buffer, resync?: boolean) => void): void;
  onClose(callback: (info: EchoCloseInfo) => void): void;
  /** Ends the session the transport's polite way; resolves once it is fully closed. */
  close(): Promise<void>;
}

/** A PTY channel can re-attach to the same terminal session after a drop. */
export interface ReconnectableEchoChannel extends EchoChannel {
  /** Opens a new socket with the same reconnect id; resolves once it is attached. */
  reconnect(): Promise<void>;
}

const ESC = 0x1b;
const CR = 0x0d;
const LF = 0x0a;
const BEL = 0x07;

const enum FilterState {
  Text,
  /** After ESC. */
  Escape,
  /** After ESC and intermediates (0x20-0x2f), e.g. `ESC ( B`: up to a final byte. */
  EscapeIntermediate,
  /** After `ESC [`: parameters and intermediates up to a final byte (0x40-0x7e). */
  ControlSequence,
  /** OSC, DCS, SOS, PM, APC (`ESC ] P X ^ _`): up to BEL or `ESC \`. */
  ControlString,
  ControlStringEscape,
}

/**
 * Turns terminal output back into the text that was typed: drops every '\r' (onlcr makes
 * '\n' into '\r\n'; screen also writes lone ones) and every escape sequence (CSI, OSC and the
 * other control strings, two- and three-byte escapes), also when one is split across chunks.
 * Emits views of the input (no copies); text without ESC or CR is found with native scans.
 */
export class TerminalTextFilter {
  private state = FilterState.Text;

  /** Forgets a sequence cut off by a dropped connection. */
  reset(): void {
    this.state = FilterState.Text;
  }

  push(chunk: Buffer, emit: (text: Buffer) => void): void {
    const length = chunk.length;
    let index = 0;
    let keptFrom = 0;
    let nextCr = -2;
    let nextEsc = -2;
    while (index < length) {
      if (this.state === FilterState.Text) {
        if (nextCr !== -1 && nextCr < index) nextCr = chunk.indexOf(CR, index);
        if (nextEsc !== -1 && nextEsc < index) nextEsc = chunk.indexOf(ESC, index);
        const next = nextCr === -1 ? nextEsc : nextEsc === -1 ? nextCr : Math.min(nextCr, nextEsc);
        if (next === -1) break;
        if (next > keptFrom) emit(chunk.subarray(keptFrom, next));
        index = next + 1;
        keptFrom = index;
        if (chunk[next] === ESC) this.state = FilterState.Escape;
        continue;
      }
      const byte = chunk[index++];
      switch (this.state) {
        case FilterState.Escape:
          if (byte === 0x5b) this.state = FilterState.ControlSequence;
          else if (byte === 0x5d || byte === 0x50 || byte === 0x58 || byte === 0x5e || byte === 0x5f)
            this.state = FilterState.ControlString;
          else if (byte >= 0x20 && byte <= 0x2f) this.state = FilterState.EscapeIntermediate;
          else this.state = FilterState.Text;
          break;
        case FilterState.EscapeIntermediate:
          if (byte < 0x20 || byte > 0x2f) this.state = FilterState.Text;
          break;
        case FilterState.ControlSequence:
          if (byte >= 0x40 && byte <= 0x7e) this.state = FilterState.Text;
          break;
        case FilterState.ControlString:
          if (byte === BEL) this.state = FilterState.Text;
          else if (byte === ESC) this.state = FilterState.ControlStringEscape;
          break;
        case FilterState.ControlStringEscape:
          this.state = byte === 0x5c ? FilterState.Text : byte === ESC ? FilterState.ControlStringEscape : FilterState.ControlString;
          break;
      }
      keptFrom = index;
    }
    if (this.state === FilterState.Text && keptFrom < length) emit(keptFrom === 0 ? chunk : chunk.subarray(keptFrom));
  }
}

const NEWLINE = Buffer.from([LF]);

/**
 * Finds the echo of a marker line sent right after a PTY (re)attach. Until it is found, what
 * arrives (replay, redraw, start-up escapes) is delivered as resync data; the marker's echo is
 * removed; after it, data is fresh. Linear: only the last marker.length - 1 bytes are held
 * back (they may be the marker's start). Feed it filtered text (no CR, no escapes).
 */
export class MarkerResync {
  private marker: Buffer | undefined;
  private held = Buffer.alloc(0);
  private resyncBytes = 0;
  private skipNewline = false;

  /** Bytes of resync data after which the marker is given up on and data counts as fresh. */
  constructor(private readonly limitBytes = 1024 * 1024) {}

  get resyncing(): boolean {
    return this.marker !== undefined;
  }

  /** False once the data passes straight through (resync over and the marker's '\n' gone). */
  get engaged(): boolean {
    return this.marker !== undefined || this.skipNewline;
  }

  /** Starts a resync: the next data is stale until `marker` (without its '\n') shows up. */
  begin(marker: Buffer): void {
    this.marker = marker;
    this.held = Buffer.alloc(0);
    this.resyncBytes = 0;
    this.skipNewline = false;
  }

  /** Returns false when the marker was given up on (more than the limit without it). */
  push(text: Buffer, deliver: (data: Buffer, resync: boolean) => void): boolean {
    const marker = this.marker;
    if (marker === undefined) {
      if (this.skipNewline && text.length > 0) {
        this.skipNewline = false;
        if (text[0] === LF) text = text.subarray(1);
      }
      if (text.length > 0) deliver(text, false);
      return true;
    }
    const data = this.held.length > 0 ? Buffer.concat([this.held, text]) : text;
    const found = data.indexOf(marker);
    if (found >= 0) {
      if (found > 0) deliver(data.subarray(0, found), true);
      deliver(NEWLINE, true);
      this.marker = undefined;
      this.held = Buffer.alloc(0);
      this.skipNewline = true;
      return this.push(data.subarray(found + marker.length), deliver);
    }
    const keep = Math.min(marker.length - 1, data.length);
    if (data.length > keep) deliver(data.subarray(0, data.length - keep), true);
    this.held = Buffer.from(data.subarray(data.length - keep));
    this.resyncBytes += text.length;
    if (this.resyncBytes <= this.limitBytes) return true;
    // No marker within the limit: stop waiting so the stream is checked again (strictly).
    if (this.held.length > 0) deliver(this.held, true);
    deliver(NEWLINE, true);
    this.marker = undefined;
    this.held = Buffer.alloc(0);
    return false;
  }
}
