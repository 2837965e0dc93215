// The simulated deployment in a process of its own. A deployment and the runner that tests it
// must not share one event loop: on a small machine the simulator's half of every echo (and
// of every SSH handshake) would otherwise stall the runner's sends, and the stall would be
// measured as deployment latency. The child is the CLI's own bundle (`cli.js __sim-child`);
// options, readiness and the owner's token travel over the IPC channel, never argv or stdio.
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { FaultsConfig } from './faults';
import type { SimDeployment, SimDeploymentOptions, SimStats } from './server';

/** argv[2] that turns the CLI bundle into a simulated-deployment child. */
export const SIM_CHILD_ARG = '__sim-child';

export type SimChildOptions = Omit<SimDeploymentOptions, 'log'>;

/** Parent → child. */
type ToChild =
  | { type: 'start'; options: SimChildOptions; niceness?: number }
  | { type: 'stats'; id: number }
  | { type: 'setFaults'; id: number; faults: FaultsConfig }
  | { type: 'close' };
/** What the parent learns of the deployment once it listens (the owner's token included: a secret). */
type SimAddresses = Pick<
  SimDeployment,
  'url' | 'ownerToken' | 'ownerEmail' | 'organizationId' | 'templateId' | 'prometheusUrl' | 'directSsh'
>;

/** Child → parent. */
type FromChild =
  | ({ type: 'ready' } & SimAddresses)
  | { type: 'failed'; message: string }
  | { type: 'log'; line: string }
  | { type: 'reply'; id: number; stats?: SimStats; error?: string };

/** The deployment as seen from the parent: its addresses, plus IPC calls in place of the in-process ones. */
export interface SimProcess extends SimAddresses {
  pid: number;
  stats(): Promise<SimStats>;
  setFaults(faults: FaultsConfig): Promise<void>;
  /** Resolves with the child's exit code (or signal) if it ends without close(). */
  exited: Promise<number | NodeJS.Signals>;
  close(): Promise<void>;
}

export interface StartSimProcessOptions extends SimChildOptions {
  /** The CLI bundle to run; default: cli.js beside this bundle, or the TypeScript source under tsx. */
  entry?: string;
  /** Node options for an explicit entry (e.g. `--import tsx` for a TypeScript source); default none. */
  execArgv?: string[];
  log?(line: string): void;
  /** How long to wait for the child to listen (default 30 s). */
  startTimeoutMs?: number;
  /**
   * Run the deployment this much below the runner's CPU priority (Linux niceness steps). When the deployment shares
   * the runner's machine (the demo), the runner's event loop is the stopwatch and must not wait
   * for the deployment's CPU; the deployment's own slowness still shows, as latency.
   */
  niceness?: number;
}

const CLOSE_TIMEOUT_MS = 10_000;

export function childEntry(): { entry: string; execArgv: string[] } {
  const bundled = path.join(__dirname, 'cli.js');
  if (fs.existsSync(bundled)) return { entry: bundled, execArgv: [] };
  // Unbundled (tests run the sources through tsx).
  return { entry: path.join(__dirname, '..', 'cli', 'main.ts'), execArgv: ['--import', 'tsx'] };
}

export function startSimDeploymentProcess(options: StartSimProcessOptions = {}): Promise<SimProcess> {
  const { entry: explicitEntry, execArgv: entryExecArgv = [], log, startTimeoutMs = 30_000, niceness, ...simOptions } = options;
  const { entry, execArgv } = explicitEntry ? { entry: explicitEntry, execArgv: entryExecArgv } : childEntry();
  const child = fork(entry, [SIM_CHILD_ARG], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => (stderrTail = (stderrTail + text).slice(-2000)));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 1)));
  const replies = new Map<number, (message: Extract<FromChild, { type: 'reply' }>) => void>();
  let nextId = 1;
  const request = (message: ToChild & { id: number }) =>
    new Promise<Extract<FromChild, { type: 'reply' }>>((resolve, reject) => {
      if (!child.connected) return reject(new Error('the simulated deployment process has ended'));
      replies.set(message.id, resolve);
      child.send(message);
    });

  return new Promise<SimProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `the simulated deployment did not start within ${Math.round(startTimeoutMs / 1000)} s${stderrTail ? `: ${stderrTail.trim()}` : ''}`,
        ),
      );
    }, startTimeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(`the simulated deployment process exited (${code}) before it was ready${stderrTail ? `: ${stderrTail.trim()}` : ''}`),
      );
    });
    child.on('message', (message: FromChild) => {
      switch (message.type) {
        case 'log':
          log?.(message.line);
          return;
        case 'reply':
          replies.get(message.id)?.(message);
          replies.delete(message.id);
          return;
        case 'failed':
          clearTimeout(timer);
          child.kill('SIGKILL');
          reject(new Error(message.message));
          return;
        case 'ready': {
          clearTimeout(timer);
          const { type: _ready, ...deployment } = message;
          resolve({
            ...deployment,
            pid: child.pid!,
            exited,
            stats: async () => {
              const reply = await request({ type: 'stats', id: nextId++ });
              if (reply.error || !reply.stats) throw new Error(reply.error ?? 'no stats');
              return reply.stats;
            },
            setFaults: async (faults) => {
              const reply = await request({ type: 'setFaults', id: nextId++, faults });
              if (reply.error) throw new Error(reply.error);
            },
            close: () => closeChild(child, exited),
          });
        }
      }
    });
    child.send({ type: 'start', options: simOptions, niceness } satisfies ToChild);
  });
}

async function closeChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.send({ type: 'close' } satisfies ToChild);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** The child's side: started by the CLI when argv[2] is SIM_CHILD_ARG and an IPC channel exists. */
export async function runSimChild(start: (options: SimDeploymentOptions) => Promise<SimDeployment>): Promise<number> {
  if (!process.send) {
    process.stderr.write(`${SIM_CHILD_ARG} is internal: it runs only as a child process with an IPC channel\n`);
    return 2;
  }
  const send = (message: FromChild) => process.send?.(message);
  const { options, niceness } = await new Promise<{ options: SimChildOptions; niceness?: number }>((resolve) =>
    process.once('message', (message: ToChild) => {
      if (message.type === 'start') resolve(message);
    }),
  );
  if (niceness) {
    try {
      // Relative to the runner's (inherited at fork). The main thread serves everything;
      // threads made from now on inherit its niceness.
      os.setPriority(Math.min(19, os.getPriority() + niceness));
    } catch {
      // Not allowed here: the deployment runs at the usual priority.
    }
  }
  let sim: SimDeployment;
  try {
    sim = await start({ ...options, log: (line) => send({ type: 'log', line }) });
  } catch (error) {
    send({ type: 'failed', message: `the simulated deployment could not start: ${(error as Error).message}` });
    return 1;
  }
  const closed = new Promise<void>((resolve) => {
    const close = () => void sim.close().then(resolve, resolve);
    process.on('message', (message: ToChild) => {
      if (message.type === 'close') close();
      else if (message.type === 'stats') send({ type: 'reply', id: message.id, stats: sim.stats() });
      else if (message.type === 'setFaults') {
        try {
          sim.setFaults(message.faults);
          send({ type: 'reply', id: message.id });
        } catch (error) {
          send({ type: 'reply', id: message.id, error: (error as Error).message });
        }
      }
    });
    // The parent went away (crashed, killed): a deployment nobody can reach must not linger.
    process.once('disconnect', close);
    process.once('SIGTERM', close);
    process.once('SIGINT', close);
  });
  send({
    type: 'ready',
    url: sim.url,
    ownerToken: sim.ownerToken,
    ownerEmail: sim.ownerEmail,
    organizationId: sim.organizationId,
    templateId: sim.templateId,
    prometheusUrl: sim.prometheusUrl,
    directSsh: sim.directSsh,
  });
  await closed;
  process.disconnect?.();
  return 0;
}
