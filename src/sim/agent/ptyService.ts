// The simulated agent's reconnecting PTY, with coderd's wire behaviour in front of it:
// - client → server frames must be binary (text → close 1003) and at most 32 KiB (→ 1009);
//   they carry concatenated JSON objects {"data","height","width"} split anywhere;
// - server → client frames are raw terminal output;
// - a session is keyed by (agent, reconnect id) and outlives its sockets: a re-attach gets the
//   last 64 KiB of output replayed; a session with no socket expires after a while (5 min).
// Two backends, as coderd's agent (agent/reconnectingpty/): `buffered` (no `screen` on PATH)
// replays the last 64 KiB of raw output on re-attach; `screen` (the agent's choice whenever
// `screen` is on PATH, Linux) sends screen's start-up escapes and the `screen -X version` flash
// on every attach, a redraw of the visible screen (not the raw history) on re-attach, and
// screen's own goodbye when the command ends. See docs/fidelity-pty.md.
// The "terminal" is in cooked mode with echo: input comes back as typed with '\n' → '\r\n'
// (onlcr), Ctrl-C echoes "^C" and ends the command. The command `dd ... of=/dev/null` (the
// reference) discards what it reads, so only the echo returns; `cat` and
// `dd ... of=/dev/stdout` print each completed line once more, as they would on a terminal.
import type * as http from 'http';
import type { Duplex } from 'stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { ByteRing } from '../../coder/byteRing';
import type { AgentRef, PtyParams } from '../agentServices';
import { JsonObjectStream, JsonStreamError } from './jsonStream';
import type { LiveConnections } from './liveConnections';

export const PTY_MAX_FRAME_BYTES = 32 * 1024;
export const PTY_REPLAY_BYTES = 64 * 1024;
export const PTY_DETACHED_TTL_MS = 5 * 60 * 1000;

export type PtyBackend = 'buffered' | 'screen';
export const PTY_BACKENDS: readonly PtyBackend[] = ['buffered', 'screen'];
/** What the screen backend keeps to redraw from: more than any visible screen holds. */
const SCREEN_KEPT_BYTES = 16 * 1024;
/** What GNU screen 4.09 prints when coderd's agent runs `screen -X version` during an attach. */
const SCREEN_VERSION = 'screen 4.09.00 (GNU) 30-Jan-22';
/**
 * The agent spawns a screen client per attach and waits for `screen -X version` before it
 * reads the socket: the attach output comes a little after the upgrade, and input waits.
 */
export const SCREEN_ATTACH_DELAY_MS = 20;

const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_NORMAL = 1000;
const INTERRUPT = 0x03;
const LF = 0x0a;
const CR = 0x0d;
const CRLF = Buffer.from('\r\n');
const CTRL_C_ECHO = Buffer.from('^C');
/**
 * A terminal in canonical mode (Linux n_tty, N_TTY_BUF_SIZE 4096) holds 4095 characters of an
 * unfinished line; further ones are still echoed but overwrite the last place, so a command
 * reading the line gets its first 4095 bytes and the newline (measured on Linux 6.18: a line of
 * 8192 echoes whole, `readline()` returns 4096 bytes).
 */
export const CANONICAL_LINE_MAX = 4095;
/** The prompt of the user's shell in the simulated workspace (bash's default `\u@\h:\w\$ `). */
const SHELL_PROMPT = 'coder@workspace:~$ ';

export interface PtySessionInfo {
  agentId: string;
  reconnect: string;
  height: number;
  width: number;
  attachedSockets: number;
  backend: PtyBackend;
}

/**
 * What `screen -UxRRqc` writes when a client attaches (screen 4.09, TERM=xterm-256color,
 * coderd's screen config), recorded from a real screen: terminal set-up, scroll region, clear;
 * on a re-attach the redraw of the visible rows; then the version message that coderd's
 * `screen -X version` makes flash on the last line, and the cursor put back.
 */
export function screenAttachOutput(height: number, width: number, recent: Buffer | undefined): Buffer {
  const setup = `\x1b[!p\x1b[?3;4l\x1b[4l\x1b>\x1b[4l\x1b[?1h\x1b=\x1b[0m\x1b(B\x1b[1;${height}r\x1b[H\x1b[2J`;
  const rows = recent ? visibleRows(recent.toString('latin1'), height, width) : [''];
  const cursor = `\x1b[${rows.length};${(rows[rows.length - 1].length % width) + 1}H`;
  const flash = `\x1b[${height - 1}B\x1b[7m${SCREEN_VERSION}\x1b[27m  \b\b\r${' '.repeat(SCREEN_VERSION.length + 2)}${recent ? cursor : '\x1b[H'}`;
  return Buffer.from(setup + (recent ? `\x1b[H\x1b[2J${rows.join('\r\n')}` : '') + flash, 'latin1');
}

/**
 * The logical lines (wrapped lines joined, as screen redraws them) that fill the last
 * `height` rows of a `width`-column screen, the cursor's line last; a line cut by the top
 * edge starts at a row boundary.
 */
function visibleRows(output: string, height: number, width: number): string[] {
  const lines = output.split('\r\n');
  const shown: string[] = [];
  let rows = 0;
  for (let i = lines.length - 1; i >= 0 && rows < height; i--) {
    const line = lines[i];
    const lineRows = Math.max(1, Math.ceil(line.length / width));
    const room = height - rows;
    shown.unshift(lineRows <= room ? line : line.slice((lineRows - room) * width));
    rows += Math.min(lineRows, room);
  }
  return shown;
}

class TerminalSession {
  private readonly output: ByteRing;
  private attachedBefore = false;
  private readonly sockets = new Set<WebSocket>();
  /** Screen backend: sockets whose screen client is still starting (no output, input waits). */
  private readonly starting = new Set<WebSocket>();
  private expiryTimer: NodeJS.Timeout | undefined;
  /** The line typed so far, for commands that print what they read and for the shell. */
  private pendingLine: Buffer[] = [];
  private readonly printsLines: boolean;
  /** No command: the agent runs the user's login shell (agent/reconnectingpty), which runs what is typed. */
  private readonly shell: boolean;
  width: number;
  height: number;

  constructor(
    readonly key: string,
    readonly agent: AgentRef,
    readonly reconnect: string,
    params: PtyParams,
    private readonly onEnded: (session: TerminalSession) => void,
    readonly backend: PtyBackend,
  ) {
    this.output = new ByteRing(backend === 'screen' ? SCREEN_KEPT_BYTES : PTY_REPLAY_BYTES);
    this.width = params.width;
    this.height = params.height;
    const command = params.command.trim();
    this.shell = command === '';
    this.printsLines = command === 'cat' || /^dd\b.*\bof=\/dev\/stdout\b/.test(command);
    if (this.shell) this.output.write(Buffer.from(SHELL_PROMPT));
  }

  get attachedSockets(): number {
    return this.sockets.size;
  }

  /** Attaches a socket; `ready` runs once the session reads its input (screen: after start-up). */
  attach(socket: WebSocket, ready: () => void, detachedTtlMs: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.backend === 'buffered') {
      this.sockets.add(socket);
      if (this.output.length > 0) socket.send(this.output.contents(), { binary: true });
      ready();
      return;
    }
    this.starting.add(socket);
    setTimeout(() => {
      if (!this.starting.delete(socket)) return; // the session ended meanwhile
      if (socket.readyState !== socket.OPEN) {
        if (this.sockets.size === 0) this.expireIn(detachedTtlMs);
        return;
      }
      this.sockets.add(socket);
      socket.send(screenAttachOutput(this.height, this.width, this.attachedBefore ? this.output.contents() : undefined), { binary: true });
      // A new session's shell prints its prompt once screen has started.
      if (!this.attachedBefore && this.output.length > 0) socket.send(this.output.contents(), { binary: true });
      this.attachedBefore = true;
      ready();
    }, SCREEN_ATTACH_DELAY_MS).unref();
  }

  detach(socket: WebSocket, ttlMs: number): void {
    if (!this.sockets.delete(socket) || this.sockets.size > 0) return;
    this.expireIn(ttlMs);
  }

  private expireIn(ttlMs: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => this.end(), ttlMs);
    this.expiryTimer.unref();
  }

  /** Feeds keyboard input to the terminal's line discipline. */
  input(data: Buffer): void {
    const echo: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      const byte = data[i];
      if (byte !== LF && byte !== CR && byte !== INTERRUPT) continue;
      echo.push(data.subarray(start, i));
      if (byte === INTERRUPT) {
        echo.push(CTRL_C_ECHO);
        if (this.shell) {
          // The shell drops the line it was reading and prompts again.
          this.pendingLine = [];
          echo.push(CRLF, Buffer.from(SHELL_PROMPT));
          start = i + 1;
          continue;
        }
        this.exit(echo);
        return;
      }
      // icrnl on input, onlcr on output: either newline echoes as CRLF.
      echo.push(CRLF);
      if (this.printsLines || this.shell) {
        this.pendingLine.push(data.subarray(start, i));
        const line = Buffer.concat(this.pendingLine);
        this.pendingLine = [];
        if (this.printsLines) echo.push(line.subarray(0, CANONICAL_LINE_MAX), CRLF);
        else {
          const ran = this.runShellLine(line.toString('utf8'));
          if (ran === 'exit') {
            this.exit(echo);
            return;
          }
          echo.push(Buffer.from(ran + SHELL_PROMPT));
        }
      }
      start = i + 1;
    }
    echo.push(data.subarray(start));
    if (this.printsLines || this.shell) this.pendingLine.push(Buffer.from(data.subarray(start)));
    this.emit(Buffer.concat(echo));
  }

  /** The command (or shell) ends after printing `output`: screen says goodbye, then EOF. */
  private exit(output: Buffer[]): void {
    // screen's goodbye when its only window's command exits.
    if (this.backend === 'screen') output.push(Buffer.from(`\x1b[?1l\x1b>\x1b[${this.height};1H\r\n[screen is terminating]\r\n`));
    this.emit(Buffer.concat(output));
    this.end();
  }

  /**
   * The user's shell, as far as a scale test types into it: `echo WORDS` prints them on a line
   * of their own, a comment or an empty line prints nothing, `exit` ends the session, anything
   * else is not found. Returns the output (CRLF line ends), or 'exit'.
   */
  private runShellLine(line: string): string {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return '';
    if (trimmed === 'exit') return 'exit';
    const echo = /^echo(?:\s+(.*))?$/.exec(trimmed);
    if (echo) return `${(echo[1] ?? '').replace(/^(["'])(.*)\1$/, '$2')}\r\n`;
    return `bash: ${trimmed.split(/\s+/)[0]}: command not found\r\n`;
  }

  resize(height: number, width: number): void {
    this.height = height;
    this.width = width;
  }

  /** The command ended (or the session expired or the agent went away): EOF for every socket. */
  end(terminate = false): void {
    clearTimeout(this.expiryTimer);
    for (const socket of this.starting) {
      if (terminate) socket.terminate();
      else socket.close(CLOSE_NORMAL);
    }
    this.starting.clear();
    for (const socket of this.sockets) {
      if (terminate) socket.terminate();
      else socket.close(CLOSE_NORMAL);
    }
    this.sockets.clear();
    this.onEnded(this);
  }

  private emit(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.output.write(bytes);
    for (const socket of this.sockets) if (socket.readyState === socket.OPEN) socket.send(bytes, { binary: true });
  }
}

export class PtyService {
  private readonly sessions = new Map<string, TerminalSession>();
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: PTY_MAX_FRAME_BYTES, perMessageDeflate: false });

  constructor(
    private readonly live: LiveConnections,
    private readonly detachedTtlMs: number,
    /** Asked when a session starts, as the agent picks its backend per session. */
    private readonly backend: () => PtyBackend = () => 'buffered',
  ) {}

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, agent: AgentRef, params: PtyParams): void {
    this.server.handleUpgrade(req, socket, head, (ws) => this.serve(ws, agent, params));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  forgetAgent(agentId: string): void {
    for (const session of [...this.sessions.values()]) if (session.agent.agentId === agentId) session.end(true);
  }

  close(): void {
    for (const session of [...this.sessions.values()]) session.end(true);
    this.server.close();
  }

  private serve(ws: WebSocket, agent: AgentRef, params: PtyParams): void {
    const key = `${agent.agentId}/${params.reconnect}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = new TerminalSession(
        key,
        agent,
        params.reconnect,
        params,
        (ended) => {
          if (this.sessions.get(ended.key) === ended) this.sessions.delete(ended.key);
        },
        this.backend(),
      );
      this.sessions.set(key, session);
    }
    const attached = session;
    const release = this.live.add('reconnecting_pty', 'pty', agent, () => ws.terminate());
    // The load-growing latency fault holds input back, so its echo comes late, in order.
    const loaded = this.live.echoDelay('pty', agent);
    const input = new JsonObjectStream();
    ws.on('error', () => {
      // ws closes the socket itself (e.g. 1009 for an oversized frame); 'close' cleans up.
    });
    ws.on('close', () => {
      loaded.cancel();
      release();
      attached.detach(ws, this.detachedTtlMs);
    });
    // Input that arrives while the session is not reading yet is read in order once it is.
    let waiting: Array<[Buffer, boolean]> | undefined = [];
    ws.on('message', (data: Buffer, isBinary: boolean) =>
      loaded.run(() => {
        if (waiting) waiting.push([data, isBinary]);
        else read(data, isBinary);
      }),
    );
    const read = (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        ws.close(CLOSE_UNSUPPORTED_DATA, 'expected binary message');
        return;
      }
      let requests: unknown[];
      try {
        requests = input.push(data);
      } catch (error) {
        if (!(error instanceof JsonStreamError)) throw error;
        // The agent stops reading on a decode error and coderd closes the socket normally.
        ws.close(CLOSE_NORMAL, `invalid input: ${error.message}`.slice(0, 120));
        return;
      }
      for (const request of requests) this.apply(attached, request);
    };
    attached.attach(
      ws,
      () => {
        const early = waiting ?? [];
        waiting = undefined;
        for (const [data, isBinary] of early) read(data, isBinary);
      },
      this.detachedTtlMs,
    );
  }

  private apply(session: TerminalSession, request: unknown): void {
    if (typeof request !== 'object' || request === null) return;
    const { data, height, width } = request as { data?: unknown; height?: unknown; width?: unknown };
    if (typeof height === 'number' && typeof width === 'number' && height > 0 && width > 0) session.resize(height, width);
    if (typeof data === 'string' && data.length > 0) session.input(Buffer.from(data, 'utf8'));
  }

  /** What sessions exist, for inspection in tests and diagnostics. */
  describeSessions(): PtySessionInfo[] {
    return [...this.sessions.values()].map((session) => ({
      agentId: session.agent.agentId,
      reconnect: session.reconnect,
      height: session.height,
      width: session.width,
      attachedSockets: session.attachedSockets,
      backend: session.backend,
    }));
  }
}
