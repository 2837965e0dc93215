// Runs and the simulated deployment in child processes of the extension host. A run is
// `dist/cli.js __runner`, forked with an IPC channel that carries the typed messages of
// src/protocol/runner.ts; the simulated deployment is `dist/cli.js __sim-child`
// (src/sim/process.ts). The extension host only relays complete snapshots, so a large run
// never competes with the editor for its event loop, and a crash of either side cannot take
// the other with it. No vscode import.
//
// Why fork + IPC rather than `run --ndjson` over stdio: the channel carries structured
// messages both ways (stop, logs, the final outcome) without parsing a text stream, keeps
// stdout/stderr free for diagnostics, and hands the session token over without argv or env.
import { fork, type ChildProcess } from 'child_process';
import { asRunnerMessage, RUNNER_MODE_ARG, RUNNER_PROTOCOL_VERSION, type HostToRunner, type RunnerToHost } from '../protocol/runner';
import type { RunSnapshot } from '../protocol/snapshot';
import { startSimDeploymentProcess } from '../sim/process';
import type { RunRequest, RunningTest, ScaleTestBackend } from './backend';
import { SecretRedactor } from './redact';

/** Which script to fork: the bundled CLI, or (in unit tests) its TypeScript source through a loader. */
export interface RunnerEntry {
  modulePath: string;
  execArgv?: string[];
}

/** A child that said goodbye without finishing its job: how it ended and what it last wrote. */
export class RunnerExitedError extends Error {
  constructor(
    readonly what: string,
    readonly exit: { code: number | null; signal: NodeJS.Signals | null },
    readonly stderrTail: string[],
  ) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const tail = stderrTail.length ? `; its last output: ${stderrTail.join(' | ')}` : '; it wrote nothing to stderr';
    super(`The ${what} process ${how} before it finished${tail}`);
  }
}

const STDERR_TAIL_LINES = 12;

type Incoming = RunnerToHost;
type Outgoing = HostToRunner extends infer M ? (M extends { v: 1 } ? Omit<M, 'v'> : never) : never;

/** One forked child: typed messages in and out, the tail of its stderr, and how it ended. */
class RunnerChild {
  readonly process: ChildProcess;
  private readonly tail: string[] = [];
  private partialLine = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** Receives every message of this protocol version the child sends. */
  onMessage: (message: Incoming) => void = () => undefined;

  constructor(
    entry: RunnerEntry,
    private readonly redactor: SecretRedactor,
  ) {
    // execArgv is explicit so the child never inherits the extension host's inspector flags.
    this.process = fork(entry.modulePath, [RUNNER_MODE_ARG], {
      execArgv: entry.execArgv ?? [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.process.stderr?.setEncoding('utf8');
    this.process.stderr?.on('data', (chunk: string) => this.keepTail(chunk));
    this.process.on('message', (raw) => {
      const message = asRunnerMessage<Incoming>(raw);
      if (message) this.onMessage(message);
    });
    // Settles once the process has ended and its IPC channel has delivered every message it
    // sent ('exit' alone can come before the last messages are read).
    const disconnected = new Promise<void>((resolve) => this.process.once('disconnect', resolve));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      this.process.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.exited = exit.then(async (result) => {
      if (this.process.connected) await disconnected;
      return result;
    });
    // A failed spawn also emits 'exit'; the error itself must not go unhandled.
    this.process.on('error', (error) => this.keepTail(`${error.message}\n`));
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  send(message: Outgoing): void {
    if (this.process.connected) this.process.send({ v: RUNNER_PROTOCOL_VERSION, ...message });
  }

  stderrTail(): string[] {
    const lines = this.partialLine ? [...this.tail, this.partialLine] : [...this.tail];
    return lines.map((line) => this.redactor.redact(line));
  }

  private keepTail(chunk: string): void {
    const lines = (this.partialLine + chunk).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) this.tail.push(line);
    this.tail.splice(0, Math.max(0, this.tail.length - STDERR_TAIL_LINES));
  }
}

/** Resolves with the first message `pick` accepts; rejects when the child fails or exits first. */
function firstAnswer<T>(child: RunnerChild, what: string, pick: (message: Incoming) => T | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const previous = child.onMessage;
    child.onMessage = (message) => {
      previous(message);
      if (message.type === 'failed') reject(new Error(message.message));
      const picked = pick(message);
      if (picked !== undefined) resolve(picked);
    };
    void child.exited.then((exit) => reject(new RunnerExitedError(what, exit, child.stderrTail())));
  });
}

/** Starts a run in a child process; resolves once the child has accepted the plan. */
export async function startRunInChild(entry: RunnerEntry, request: RunRequest & { prometheusUrl?: string }): Promise<RunningTest> {
  const redactor = new SecretRedactor();
  redactor.add(request.connection.token);
  const child = new RunnerChild(entry, redactor);
  let latest: RunSnapshot | undefined;
  const listeners = new Set<(snapshot: RunSnapshot) => void>();
  let settle: { resolve(outcome: { snapshot: RunSnapshot; reportDir: string }): void; reject(error: Error): void } | undefined;
  const done = new Promise<{ snapshot: RunSnapshot; reportDir?: string }>((resolve, reject) => (settle = { resolve, reject }));
  let runId = '';
  child.onMessage = (message) => {
    switch (message.type) {
      case 'snapshot':
        latest = message.snapshot;
        for (const listener of listeners) listener(message.snapshot);
        break;
      case 'log':
        request.log(message.level, message.line);
        break;
      case 'runDone':
        latest = { ...message.snapshot, reportDir: message.reportDir };
        settle?.resolve({ snapshot: latest, reportDir: message.reportDir });
        break;
      case 'failed':
        settle?.reject(new Error(`Run ${runId} failed in the runner: ${message.message}`));
        break;
    }
  };
  const started = firstAnswer(child, 'runner', (message) => (message.type === 'runStarted' ? message : undefined));
  child.send({
    type: 'startRun',
    planText: request.planText,
    planSource: request.planSource,
    connection: request.connection,
    outDir: request.outDir,
    chromiumPath: request.chromiumPath,
    coderBinaryPath: request.coderBinaryPath,
    prometheusUrl: request.prometheusUrl,
    kubernetes: request.kubernetes,
  });
  let accepted: { runId: string; pid: number };
  try {
    accepted = await started;
  } catch (error) {
    if (child.alive) child.process.kill();
    throw error;
  }
  runId = accepted.runId;
  void child.exited.then((exit) => settle?.reject(new RunnerExitedError(`runner (run ${runId})`, exit, child.stderrTail())));
  const stop = () => child.send({ type: 'stop', reason: 'stopped from VS Code' });
  if (request.signal.aborted) stop();
  else request.signal.addEventListener('abort', stop, { once: true });
  return {
    runId,
    runnerPid: accepted.pid,
    latest: () => latest,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    abort: stop,
    done,
  };
}

/** The backend's run and simulated-deployment halves, each in its own child process. */
export function createProcessBackend(entry: RunnerEntry): Pick<ScaleTestBackend, 'startRun' | 'startSimDeployment'> {
  /** Prometheus endpoints of simulated deployments started here, by URL (plans cannot know them). */
  const simPrometheus = new Map<string, string>();
  return {
    startRun: (request) => startRunInChild(entry, { ...request, prometheusUrl: simPrometheus.get(request.connection.url) }),
    async startSimDeployment() {
      const sim = await startSimDeploymentProcess({ entry: entry.modulePath, execArgv: entry.execArgv });
      simPrometheus.set(sim.url, sim.prometheusUrl);
      return {
        url: sim.url,
        ownerToken: sim.ownerToken,
        ownerEmail: sim.ownerEmail,
        pid: sim.pid,
        exited: sim.exited.then((exit) => `its process ${typeof exit === 'number' ? `exited with code ${exit}` : `was killed by ${exit}`}`),
        close: async () => {
          simPrometheus.delete(sim.url);
          await sim.close();
        },
      };
    },
  };
}
