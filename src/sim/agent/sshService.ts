// The simulated agent's SSH server (ssh2). A real agent is reached over tailnet, which already
// authenticated the user, so it accepts any SSH user; here it is reached through the
// simulator's tunnel (the CLI shim's stand-in for tailnet) or, optionally, directly on a TCP
// port where the SSH user name `<owner>/<workspace>` picks the agent.
// Only the reference command runs: `dd if=/dev/stdin of=/dev/stdout bs=N status=none` echoes
// stdin to stdout byte for byte; anything else exits 127 like a shell that cannot find it.
import * as net from 'net';
import type { Duplex } from 'stream';
import { type Connection, Server, type ServerChannel, utils } from 'ssh2';
import { JoinedDuplex } from '../../coder/joinedStream';
import type { AgentRef, AgentServicesOptions } from '../agentServices';
import type { LiveConnections } from './liveConnections';

const ECHO_COMMAND = /^dd if=\/dev\/stdin of=\/dev\/stdout bs=\d+ status=none$/;

/**
 * Gives each stream handed to ssh2 its own `remotePort`, which ssh2 reports in the
 * 'connection' event: that is how a connection finds its agent (the tunnel knows it up front).
 */
class IdentifiedStream extends JoinedDuplex {
  readonly remoteAddress = 'sim-agent';
  readonly remoteFamily = 'sim';

  constructor(
    inner: Duplex,
    readonly remotePort: number,
  ) {
    super(inner, inner);
  }
}

interface PendingConnection {
  /** Known for tunnel connections; resolved from the user name for direct ones. */
  agent?: AgentRef;
  socket: Duplex;
}

export class SshService {
  private readonly server: Server;
  private readonly pending = new Map<number, PendingConnection>();
  private nextId = 1;
  private direct: net.Server | undefined;

  constructor(
    private readonly live: LiveConnections,
    private readonly options: AgentServicesOptions,
  ) {
    // One host key per deployment, generated at start like an agent's. ECDSA, not ed25519:
    // ssh2 1.17 emits a malformed ed25519 key about once in 256 (mscdex/ssh2#1390, #1513).
    const hostKey = utils.generateKeyPairSync('ecdsa', { bits: 256 });
    this.server = new Server({ hostKeys: [hostKey.private] }, (client, info) => this.serve(client, info.port));
    this.server.on('error', () => {
      // A broken client connection; its socket is closed and released by 'close'.
    });
  }

  /** A connection for a known agent (the tunnel). */
  accept(socket: Duplex, agent: AgentRef): void {
    this.inject(socket, agent);
  }

  async listenDirect(host = '127.0.0.1', port = 0): Promise<{ host: string; port: number }> {
    if (!this.direct) {
      const direct = net.createServer({ noDelay: true }, (socket) => this.inject(socket, undefined));
      this.direct = direct;
      await new Promise<void>((resolve, reject) => {
        direct.once('error', reject);
        direct.listen(port, host, () => resolve());
      });
    }
    const address = this.direct.address() as net.AddressInfo;
    return { host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    for (const { socket } of this.pending.values()) socket.destroy();
    const direct = this.direct;
    if (direct) await new Promise<void>((resolve) => direct.close(() => resolve()));
  }

  private inject(socket: Duplex, agent: AgentRef | undefined): void {
    const id = this.nextId++;
    socket.on('error', () => {});
    // The client finishing means the connection is over (tunnel sockets allow half-open).
    socket.on('end', () => socket.end());
    this.pending.set(id, { agent, socket });
    socket.once('close', () => this.pending.delete(id));
    this.live.admit('ssh', () => {
      if (!socket.destroyed) this.server.injectSocket(new IdentifiedStream(socket, id) as unknown as net.Socket);
    });
  }

  private serve(client: Connection, id: number): void {
    const pending = this.pending.get(id);
    if (!pending) {
      client.end();
      return;
    }
    let release: (() => void) | undefined;
    client.on('error', () => {});
    client.on('close', () => release?.());
    client.on('authentication', (context) => {
      const agent = pending.agent ?? this.resolveUser(context.username);
      if (!agent) {
        context.reject();
        return;
      }
      if (!release) {
        pending.agent = agent;
        release = this.live.add('ssh', 'ssh', agent, () => pending.socket.destroy());
      }
      context.accept();
    });
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      let running: ServerChannel | undefined;
      const finish = (status: number | string) => {
        const stream = running;
        running = undefined;
        if (!stream) return;
        if (typeof status === 'number') stream.exit(status);
        else stream.exit(status, false, '');
        stream.end();
      };
      session.on('exec', (acceptExec, _reject, { command }) => {
        const stream = acceptExec();
        running = stream;
        if (!ECHO_COMMAND.test(command.trim())) {
          stream.stderr.write(
            `sh: 1: ${command.split(' ')[0]}: not found (this simulated agent only runs "dd if=/dev/stdin of=/dev/stdout bs=N status=none")\n`,
          );
          finish(127);
          return;
        }
        // The load-growing latency fault holds each chunk back before dd writes it.
        const loaded = this.live.echoDelay('ssh', pending.agent!);
        stream.on('data', (chunk: Buffer) => loaded.run(() => stream.write(chunk)));
        // dd read EOF: it exits 0 once everything read has been written.
        stream.on('end', () => loaded.run(() => finish(0)));
        stream.on('close', () => loaded.cancel());
      });
      session.on('signal', (acceptSignal, _reject, { name }) => {
        acceptSignal?.();
        finish(name);
      });
      session.on('pty', (_accept, reject) => reject?.());
      session.on('shell', (_accept, reject) => reject?.());
    });
  }

  private resolveUser(username: string): AgentRef | undefined {
    const slash = username.indexOf('/');
    if (slash <= 0) return undefined;
    return this.options.resolveWorkspace(username.slice(0, slash), username.slice(slash + 1));
  }
}
