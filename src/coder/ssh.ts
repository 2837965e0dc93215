// SSH echo over ssh2, like the reference runner: exec (no PTY)
// `dd if=/dev/stdin of=/dev/stdout bs=<bytesPerTick> status=none`, which echoes stdin byte for
// byte. Two transports carry the SSH byte stream:
// - the coder CLI: `coder ssh --stdio <owner>/<workspace>` with CODER_URL and
//   CODER_SESSION_TOKEN in its environment (never on its command line); its stdin/stdout become
//   ssh2's socket. This is how a client without tailnet reaches a real agent.
// - direct TCP, for targets that expose SSH themselves.
// Host keys are not checked: the CLI transport is already authenticated end to end by the
// deployment (as `coder ssh` itself does), and a direct target is one the plan names.
import { type ChildProcessWithoutNullStreams, spawn } from 'child_process';
import * as fs from 'fs';
import type { Duplex } from 'stream';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import type { DeploymentConnection } from './connection';
import type { EchoChannel, EchoCloseInfo } from './echo';
import { JoinedDuplex } from './joinedStream';
import { Listeners } from './listeners';

const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** How much of the CLI's stderr is kept to explain a failure. */
const STDERR_TAIL_BYTES = 4096;

export type SshTransport =
  | {
      kind: 'cli';
      /** Path of the coder binary (see ensureCoderBinary). */
      binaryPath: string;
      connection: DeploymentConnection;
      owner: string;
      workspace: string;
      /**
       * Tell the CLI not to connect peer to peer (`CODER_DISABLE_DIRECT_CONNECTIONS`): every byte
       * then goes through a DERP relay (coderd's built-in one unless the deployment has others).
       * Default false, like the reference runner's in-process dial.
       */
      disableDirect?: boolean;
      /**
       * The agent to reach. The real CLI refuses a bare `<owner>/<workspace>` when the workspace
       * has several agents ("multiple agents found"), so name it whenever it is known.
       */
      agent?: string;
    }
  | {
      kind: 'tcp';
      host: string;
      port: number;
      /** Defaults to "coder"; the simulator's direct port reads `<owner>/<workspace>` from it. */
      username?: string;
    };

export interface SshEchoChannelOptions {
  transport: SshTransport;
  bytesPerTick: number;
  signal?: AbortSignal;
  readyTimeoutMs?: number;
  /** How long close() waits for the remote side after EOF + SIGHUP. Default 30 s. */
  closeTimeoutMs?: number;
}

export class SshChannelError extends Error {
  constructor(
    message: string,
    /** The HTTP status the coder CLI was refused with (its stderr names it), when it says one. */
    readonly refusedStatus?: number,
  ) {
    super(message);
    this.name = 'SshChannelError';
  }
}

/**
 * The status in a coder CLI's error: the real CLI prints codersdk's `unexpected status code
 * 429: …`, the simulated one `HTTP 429: …`.
 */
export function refusedStatusOf(cliError: string): number | undefined {
  const match = /(?:unexpected status code|HTTP) (\d{3})\b/.exec(cliError);
  return match ? Number(match[1]) : undefined;
}

/** The reference echo command. */
export function sshEchoCommand(bytesPerTick: number): string {
  if (!Number.isInteger(bytesPerTick) || bytesPerTick < 1)
    throw new SshChannelError(`bytesPerTick must be a positive integer, got ${bytesPerTick}`);
  return `dd if=/dev/stdin of=/dev/stdout bs=${bytesPerTick} status=none`;
}

/** A running `coder ssh --stdio`: its stdio as one Duplex, plus what it said on stderr. */
export interface CliStdioTransport {
  stream: Duplex;
  child: ChildProcessWithoutNullStreams;
  stderrTail(): string;
}

/** The CLI's workspace argument: `<owner>/<workspace>[.<agent>]`, as `coder ssh` parses it. */
export function coderSshTarget(owner: string, workspace: string, agent?: string): string {
  return `${owner}/${workspace}${agent ? `.${agent}` : ''}`;
}

/** Spawns the coder CLI as the SSH transport. The token travels only in its environment. */
export function spawnCoderSshStdio(
  binaryPath: string,
  connection: DeploymentConnection,
  owner: string,
  workspace: string,
  agent?: string,
  disableDirect = false,
): CliStdioTransport {
  // Set either way, so a value inherited from the runner's environment cannot change the path.
  const env: NodeJS.ProcessEnv = { ...process.env, CODER_URL: connection.url, CODER_DISABLE_DIRECT_CONNECTIONS: String(disableDirect) };
  if (connection.token) env.CODER_SESSION_TOKEN = connection.token;
  // A Node-based CLI (the simulator's) follows our TLS options; a real coder CLI ignores these
  // variables and needs the deployment's CA in the system trust store.
  if (connection.tls?.caFile) env.NODE_EXTRA_CA_CERTS = connection.tls.caFile;
  if (connection.tls?.insecure) env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  const child = spawn(binaryPath, ['ssh', '--stdio', coderSshTarget(owner, workspace, agent)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL_BYTES);
  });
  child.stdin.on('error', () => {
    // EPIPE when the CLI exits first; the exit is reported instead.
  });
  const stream = new JoinedDuplex(child.stdout, child.stdin);
  return { stream, child, stderrTail: () => redact(stderr.trim(), connection.token) };
}

function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[token]') : text;
}

/**
 * An echo channel over SSH. onData delivers the command's stdout (the exact bytes sent);
 * close() ends stdin and sends SIGHUP (the signal first: ssh2 cannot send a request on a
 * channel whose stdin is already ended), then waits for the channel to close.
 */
export async function openSshEchoChannel(options: SshEchoChannelOptions): Promise<EchoChannel> {
  const command = sshEchoCommand(options.bytesPerTick);
  const { transport } = options;
  // Loaded on first use: the extension host imports this module (through the stage registry)
  // but never opens SSH, and ssh2's start-up work would count against its activation time.
  const { Client: SshClient } = await import('ssh2');
  const client = new SshClient();
  const cli =
    transport.kind === 'cli'
      ? spawnCoderSshStdio(
          transport.binaryPath,
          transport.connection,
          transport.owner,
          transport.workspace,
          transport.agent,
          transport.disableDirect,
        )
      : undefined;
  const describeTarget =
    transport.kind === 'cli'
      ? `${coderSshTarget(transport.owner, transport.workspace, transport.agent)} via the coder CLI`
      : `${transport.host}:${transport.port}`;
  const config: ConnectConfig = {
    readyTimeout: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    hostVerifier: () => true,
    keepaliveInterval: 0,
  };
  if (transport.kind === 'cli') {
    config.sock = cli!.stream as unknown as ConnectConfig['sock'];
    config.username = 'coder';
  } else {
    config.host = transport.host;
    config.port = transport.port;
    config.username = transport.username ?? 'coder';
  }

  const stream = await connectAndExec(
    client,
    config,
    cli,
    command,
    describeTarget,
    options.signal,
    transport.kind === 'cli' ? transport.binaryPath : undefined,
  );
  return echoChannelOver(stream, client, cli, options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
}

/** Connects `client` (through the CLI's stdio when `cli` is set) and starts `command`; rejects with what went wrong. */
function connectAndExec(
  client: Client,
  config: ConnectConfig,
  cli: CliStdioTransport | undefined,
  command: string,
  describeTarget: string,
  signal: AbortSignal | undefined,
  binaryPath: string | undefined,
): Promise<ClientChannel> {
  return new Promise<ClientChannel>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.end();
      cli?.child.kill();
      reject(new SshChannelError(`SSH to ${describeTarget} failed: ${reason}`, cli ? refusedStatusOf(reason) : undefined));
    };
    const onAbort = () => fail('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    // 'close' comes after the CLI's stderr has been read to its end, so the message has it all.
    const cliExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(
        `the coder CLI ${code === null ? `was killed by ${signal}` : `exited with code ${code}`}${cli!.stderrTail() ? `: ${cli!.stderrTail()}` : ''}`,
      );
    cli?.child.once('close', cliExit);
    // ssh2 notices the CLI's end first ("Connection lost before handshake"): give the CLI a
    // moment to exit, so the error carries its exit code and stderr instead.
    const failOnSsh = (reason: string) => (cli ? setTimeout(() => fail(cli.stderrTail() || reason), 2000).unref() : fail(reason));
    cli?.child.once('error', (error: NodeJS.ErrnoException) => {
      // ENOENT for a file that exists means its interpreter is missing: the simulator's CLI is
      // a Node script (#!/usr/bin/env node), so `node` must be on PATH.
      const hint =
        error.code === 'ENOENT' && binaryPath !== undefined && fs.existsSync(binaryPath)
          ? " (its interpreter was not found; the simulated deployment's CLI needs `node` on PATH)"
          : '';
      fail(`cannot run the coder CLI ${binaryPath ?? ''}: ${error.message}${hint}`);
    });
    client.on('error', (error) => failOnSsh(error.message));
    client.once('close', () => failOnSsh('the connection closed during the handshake'));
    client.once('ready', () => {
      // Each tick is one small write: without this, Nagle's algorithm meets delayed ACKs and
      // adds ~40 ms per direction on a direct TCP connection.
      client.setNoDelay(true);
      client.exec(command, (error, channel) => {
        if (error) return fail(`exec refused: ${error.message}`);
        if (settled) return void channel.close();
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        resolve(channel);
      });
    });
    client.connect(config);
    // From the first byte, not only once ready: the handshake is a dozen small writes, and with
    // Nagle's algorithm against delayed ACKs each waits ~40 ms (a 400 ms connect on loopback).
    client.setNoDelay(true);
  });
}

/**
 * Whether ssh2 copies a write of `length` bytes into its packet before write() returns: the
 * channel is open, nothing waits before it, and its window takes it all. Otherwise ssh2 keeps
 * (part of) the buffer until the window opens. Read from ssh2's channel state (`outgoing`, not in
 * its typings); should that ever change shape, this says no and every send is copied.
 */
export function writesThrough(stream: ClientChannel, length: number): boolean {
  const outgoing = (stream as unknown as { outgoing?: { state?: unknown; window?: unknown } }).outgoing;
  return (
    stream.writableLength === 0 &&
    stream.writableCorked === 0 &&
    outgoing?.state === 'open' &&
    typeof outgoing.window === 'number' &&
    outgoing.window >= length
  );
}

/** The echo channel over an exec'd command's stream; closing ends the SSH connection (and the CLI). */
function echoChannelOver(stream: ClientChannel, client: Client, cli: CliStdioTransport | undefined, closeTimeoutMs: number): EchoChannel {
  const dataListeners = new Listeners<[chunk: Buffer]>();
  const closeListeners = new Listeners<[info: EchoCloseInfo]>();
  let closing = false;
  let closed = false;
  let exitCode: number | undefined;
  let exitSignal: string | undefined;
  const remoteStderr: string[] = [];
  stream.on('data', (chunk: Buffer) => {
    dataListeners.emit(chunk);
  });
  stream.stderr.on('data', (chunk: Buffer) => remoteStderr.push(chunk.toString('utf8')));
  stream.on('exit', (code: number | null, signalName?: string) => {
    if (code !== null) exitCode = code;
    if (signalName) exitSignal = signalName;
  });
  const finished = new Promise<void>((resolve) => {
    let reported = false;
    const report = (why: string) => {
      if (reported) return;
      reported = true;
      closed = true;
      const stderr = remoteStderr.join('').trim();
      const reason = exitSignal
        ? `remote command ended by ${exitSignal.startsWith('SIG') ? exitSignal : `SIG${exitSignal}`}`
        : exitCode !== undefined
          ? `remote command exited with ${exitCode}${stderr ? `: ${stderr}` : ''}`
          : why;
      client.end();
      cli?.child.kill();
      closeListeners.emit({ expected: closing, code: exitCode, reason });
      resolve();
    };
    stream.on('close', () => report('channel closed'));
    client.on('close', () => report(cli?.stderrTail() || 'SSH connection closed'));
    client.on('error', (error) => report(`SSH connection failed: ${error.message}`));
  });

  return {
    send: (payload) => {
      if (closed || closing) throw new SshChannelError('The SSH channel is closed.');
      stream.write(writesThrough(stream, payload.length) ? payload : Buffer.from(payload));
    },
    // The engine then builds each tick's payload in one reused buffer: a new Buffer per tick (1 KiB
    // outside V8's heap each) kept V8 collecting the whole heap about once a second at 250
    // connections, as V8 counts external memory allocated since its last full collection
    // against the old generation's limit (docs/bench.md, "SSH at the floor's cost").
    copiesPayload: true,
    onData: (listener) => dataListeners.add(listener),
    onClose: (listener) => closeListeners.add(listener),
    close: async () => {
      if (closed) return;
      closing = true;
      stream.signal('HUP');
      stream.end();
      const timer = setTimeout(() => {
        client.end();
        cli?.child.kill();
      }, closeTimeoutMs);
      await finished;
      clearTimeout(timer);
    },
  };
}
