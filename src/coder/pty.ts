// Coder's reconnecting PTY ("web terminal") as a client: a WebSocket to
// /api/v2/workspaceagents/{id}/pty. Client → server frames are binary only (a text frame makes
// coderd close with 1003) and carry a byte stream of JSON objects {"data"} / {"height","width"};
// the reference runner chunks input at 1024 bytes. Server → client frames are raw PTY output.
import { randomBytes, randomUUID } from 'crypto';
import type WebSocket from 'ws';
import type { DeploymentConnection } from './connection';
import { type EchoCloseInfo, MarkerResync, type ReconnectableEchoChannel, TerminalTextFilter } from './echo';
import { dialWebSocket } from './wsDial';

/** Input is sent in JSON objects carrying at most this many bytes of data each. */
export const PTY_INPUT_CHUNK_BYTES = 1024;
/** Ctrl-C: the reference runner's way to end the session. */
const INTERRUPT = '\u0003';
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

export interface PtyTarget {
  connection: DeploymentConnection;
  agentId: string;
  /** Reconnect id (a UUID); a new one is generated when absent. */
  reconnectId?: string;
  width: number;
  height: number;
  command: string;
}

export interface PtySocketCloseInfo {
  code: number;
  reason: string;
  /** True when close() or terminate() on this side started it. */
  expected: boolean;
}

/** The query coderd expects on the PTY upgrade. */
export function ptyPath(agentId: string, params: { reconnectId: string; width: number; height: number; command: string }): string {
  const query = new URLSearchParams({
    reconnect: params.reconnectId,
    width: String(params.width),
    height: String(params.height),
    command: params.command,
  });
  return `/api/v2/workspaceagents/${encodeURIComponent(agentId)}/pty?${query.toString()}`;
}

/** Splits input into pieces of at most `limit` UTF-8 bytes without cutting a character. */
export function chunkUtf8(data: Buffer, limit = PTY_INPUT_CHUNK_BYTES): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < data.length) {
    let end = Math.min(start + limit, data.length);
    // Back off continuation bytes (10xxxxxx) so the cut falls on a character boundary.
    while (end < data.length && end > start && (data[end] & 0xc0) === 0x80) end--;
    pieces.push(data.toString('utf8', start, end));
    start = end;
  }
  return pieces;
}

/**
 * One reconnecting-PTY session, possibly over several sockets: connect() attaches, a drop
 * leaves the session alive on the agent, connect() again re-attaches with the same id.
 */
export class ReconnectingPtySocket {
  readonly reconnectId: string;
  private socket: WebSocket | undefined;
  /** Sockets this side chose to close, so their close is reported as expected. */
  private readonly closedByUs = new WeakSet<WebSocket>();
  private readonly dataListeners: Array<(chunk: Buffer) => void> = [];
  private readonly closeListeners: Array<(info: PtySocketCloseInfo) => void> = [];

  constructor(private readonly target: PtyTarget) {
    this.reconnectId = target.reconnectId ?? randomUUID();
  }

  get isOpen(): boolean {
    return this.socket !== undefined && this.socket.readyState === this.socket.OPEN;
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (info: PtySocketCloseInfo) => void): void {
    this.closeListeners.push(listener);
  }

  /** Opens (or re-opens) the socket with this session's reconnect id. */
  async connect(signal?: AbortSignal): Promise<void> {
    if (this.isOpen) throw new Error('The PTY socket is already open; close it before reconnecting.');
    const { connection, agentId, width, height, command } = this.target;
    const socket = await dialWebSocket({
      connection,
      path: ptyPath(agentId, { reconnectId: this.reconnectId, width, height, command }),
      signal,
      onCreated: (created) => {
        created.on('message', (data: Buffer) => {
          for (const listener of this.dataListeners) listener(data);
        });
        created.on('error', () => {
          // 'close' follows every error and reports it.
        });
      },
    });
    this.socket = socket;
    socket.once('close', (code: number, reason: Buffer) => {
      if (this.socket === socket) this.socket = undefined;
      const info = { code, reason: reason.toString('utf8') || describeCloseCode(code), expected: this.closedByUs.has(socket) };
      for (const listener of this.closeListeners) listener(info);
    });
  }

  /** Sends input, chunked into JSON {"data"} objects in binary frames. */
  write(data: Buffer | string): void {
    const socket = this.openSocket();
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // One tick (≤ 1024 bytes) is one frame: no chunk list, no object to stringify.
    if (bytes.length <= PTY_INPUT_CHUNK_BYTES)
      socket.send(Buffer.from(`{"data":${JSON.stringify(bytes.toString('utf8'))}}`), { binary: true });
    else for (const piece of chunkUtf8(bytes)) socket.send(Buffer.from(`{"data":${JSON.stringify(piece)}}`), { binary: true });
  }

  /** Sends text input: one JSON {"data"} frame built from the string, no intermediate Buffer. */
  writeText(text: string): void {
    if (text.length > PTY_INPUT_CHUNK_BYTES || Buffer.byteLength(text) > PTY_INPUT_CHUNK_BYTES) return this.write(text);
    this.openSocket().send(`{"data":${JSON.stringify(text)}}`, { binary: true });
  }

  resize(height: number, width: number): void {
    this.openSocket().send(Buffer.from(JSON.stringify({ height, width })), { binary: true });
  }

  /**
   * Ends the session like the reference runner: send Ctrl-C, then wait for the deployment to
   * close the socket (EOF) for up to `timeoutMs`; after that the socket is cut.
   */
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.closedByUs.add(socket);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (socket.readyState === socket.OPEN) socket.send(Buffer.from(JSON.stringify({ data: INTERRUPT })), { binary: true });
    const timer = setTimeout(() => socket.terminate(), timeoutMs);
    await closed;
    clearTimeout(timer);
  }

  /** Cuts the socket without ending the session (it can be re-attached). */
  terminate(): void {
    if (!this.socket) return;
    this.closedByUs.add(this.socket);
    this.socket.terminate();
  }

  private openSocket(): WebSocket {
    if (!this.socket || this.socket.readyState !== this.socket.OPEN) throw new Error('The PTY socket is not open.');
    return this.socket;
  }
}

function describeCloseCode(code: number): string {
  switch (code) {
    case 1000:
      return 'normal closure';
    case 1003:
      return 'unsupported data (a text frame was sent)';
    case 1006:
      return 'connection dropped without a close frame';
    case 1009:
      return 'message too big (frame over 32 KiB)';
    case 1011:
      return 'server error';
    default:
      return `close code ${code}`;
  }
}

export interface PtyEchoChannelOptions extends PtyTarget {
  signal?: AbortSignal;
  /**
   * Default true: deliver the typed text (no '\r', no escape sequences) and resynchronise on a
   * marker after each (re)attach. False: the raw terminal bytes, no marker sent.
   */
  normalizeNewlines?: boolean;
  /** How long close() waits for EOF after Ctrl-C. Default 30 s. */
  closeTimeoutMs?: number;
}

export interface PtyEchoChannel extends ReconnectableEchoChannel {
  readonly reconnectId: string;
  resize(height: number, width: number): void;
}

/** A marker line no tick can look like (ticks start with 8 base36 digits and ':'). */
function newResyncMarker(): Buffer {
  return Buffer.from(`#resync-${randomBytes(6).toString('hex')}`, 'latin1');
}

/**
 * An echo channel over the reconnecting PTY. onData delivers the terminal echo, by default as
 * the typed text; after each (re)attach, what the terminal shows before the echo of a marker
 * line (the buffered backend's replay, screen's escapes and redraw) comes with resync = true,
 * ended by '\n', so the consumer can match late echoes in it without counting the rest as
 * errors. Nothing is delivered after close(). onClose fires for every socket that closes;
 * after an unexpected close, reconnect() re-attaches the same session and data flows to the
 * same listeners again.
 */
export async function openPtyEchoChannel(options: PtyEchoChannelOptions): Promise<PtyEchoChannel> {
  const pty = new ReconnectingPtySocket(options);
  const raw = options.normalizeNewlines === false;
  const filter = new TerminalTextFilter();
  const resync = new MarkerResync();
  const dataListeners: Array<(chunk: Buffer, resync?: boolean) => void> = [];
  const closeListeners: Array<(info: EchoCloseInfo) => void> = [];
  // After close() the only output left is the terminal's "^C", which echoes no payload.
  let closing = false;
  const deliver = (chunk: Buffer, stale: boolean) => {
    for (const listener of dataListeners) listener(chunk, stale);
  };
  const deliverText = (text: Buffer) => {
    if (!resync.engaged) deliver(text, false);
    else resync.push(text, deliver);
  };
  pty.onData((chunk) => {
    if (closing || chunk.length === 0) return;
    if (raw) deliver(chunk, false);
    else filter.push(chunk, deliverText);
  });
  pty.onClose(({ code, reason, expected }) => {
    for (const listener of closeListeners) listener({ expected, code, reason });
  });
  // The marker is armed before the socket opens: the attach output can arrive with the upgrade.
  const attach = async () => {
    const marker = raw ? undefined : newResyncMarker();
    if (marker) {
      filter.reset();
      resync.begin(marker);
    }
    await pty.connect(options.signal);
    if (marker) pty.write(Buffer.concat([marker, NEWLINE]));
  };
  await attach();
  return {
    reconnectId: pty.reconnectId,
    send: (payload) => pty.write(payload),
    sendText: (text) => pty.writeText(text),
    resize: (height, width) => pty.resize(height, width),
    onData: (listener) => void dataListeners.push(listener),
    onClose: (listener) => void closeListeners.push(listener),
    close: () => {
      closing = true;
      return pty.close(options.closeTimeoutMs);
    },
    reconnect: async () => {
      if (pty.isOpen) pty.terminate();
      await attach();
    },
  };
}

const NEWLINE = Buffer.from('\n');
