// `dist/cli.js __runner`: the child process the VS Code extension forks to run a scale test
// outside the editor's extension host. It speaks the typed
// messages of src/protocol/runner.ts over the IPC channel and nothing else: no argv options
// and no secrets in the environment. Stderr is free text the host keeps the tail of, to say
// why a runner died.
import { parsePlanText, PlanError, startRun, type RunHandle } from '../engine';
import { runKubernetesJob } from '../k8s/runnerJob';
import { asRunnerMessage, RUNNER_PROTOCOL_VERSION, type HostToRunner, type RunnerToHost } from '../protocol/runner';
// The runner serves the VS Code face: its events and outcomes are worded for VS Code users.
import { accessProblemText, eventLine } from '../protocol/editorWording';

/** After the host is gone, how long an aborted run may take to clean up before the child gives up. */
const ORPHAN_CLEANUP_LIMIT_MS = 5 * 60_000;

type Outgoing = RunnerToHost extends infer M ? (M extends { v: 1 } ? Omit<M, 'v'> : never) : never;

function send(message: Outgoing): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send({ v: RUNNER_PROTOCOL_VERSION, ...message }, undefined, {}, () => resolve());
  });
}

async function finish(code: number): Promise<never> {
  if (process.connected) process.disconnect();
  process.exit(code);
}

/** Runs until the child's one job is done; never returns. */
export function runRunnerMode(): void {
  if (!process.send) {
    process.stderr.write('error: runner mode is internal to the VS Code extension (it needs an IPC channel)\n');
    process.exit(2);
  }
  let job: { stop(reason: string): void } | undefined;
  const stop = (reason: string) => (job ? job.stop(reason) : void finish(0));
  process.on('message', (raw: unknown) => {
    const message = asRunnerMessage<HostToRunner>(raw);
    if (!message) {
      const version = (raw as { v?: unknown } | null)?.v;
      void send({
        type: 'failed',
        message: `runner protocol mismatch: expected version ${RUNNER_PROTOCOL_VERSION}, got ${String(version)}`,
      }).then(() => finish(2));
      return;
    }
    switch (message.type) {
      case 'startRun':
        if (!job) job = runJob(message);
        break;
      case 'stop':
        stop(message.reason ?? 'stopped from VS Code');
        break;
    }
  });
  // The host went away (window closed, extension host crashed): stop as if asked, so a run
  // still cleans up what it created, but do not linger forever.
  process.on('disconnect', () => {
    stop('the VS Code window closed');
    setTimeout(() => process.exit(130), ORPHAN_CLEANUP_LIMIT_MS).unref();
  });
  process.on('SIGTERM', () => stop('the runner received SIGTERM'));
  process.on('SIGINT', () => stop('the runner received SIGINT'));
}

function runJob(request: Extract<HostToRunner, { type: 'startRun' }>): { stop(reason: string): void } {
  if (request.kubernetes) return runKubernetesJob(request, request.kubernetes, { send, finish });
  let handle: RunHandle;
  let runId = '';
  try {
    const plan = parsePlanText(request.planText, request.planSource);
    if (request.prometheusUrl && !plan.deployment.prometheusUrl) plan.deployment.prometheusUrl = request.prometheusUrl;
    handle = startRun({
      plan,
      connection: request.connection,
      outDir: request.outDir,
      log: (event) => void send({ type: 'log', level: event.level, line: eventLine(event, runId) }),
      chromiumPath: request.chromiumPath,
      coderBinaryPath: request.coderBinaryPath,
    });
  } catch (error) {
    // One problem per line, each naming the field (the Problems view shows them one by one).
    const message = error instanceof PlanError ? error.problems.join('\n') : (error as Error).message;
    void send({ type: 'failed', message }).then(() => finish(2));
    return { stop: () => undefined };
  }
  runId = handle.runId;
  void send({ type: 'runStarted', runId: handle.runId, pid: process.pid });
  handle.subscribe((snapshot) => void send({ type: 'snapshot', snapshot }));
  handle.done.then(
    async (result) => {
      const reason = result.access ? accessProblemText(result.snapshot.reason ?? '', result.access) : result.snapshot.reason;
      await send({ type: 'runDone', snapshot: { ...result.snapshot, reason }, reportDir: result.reportDir, exitCode: result.exitCode });
      await finish(0);
    },
    async (error: Error) => {
      await send({ type: 'failed', message: error.message });
      await finish(1);
    },
  );
  let stopping = false;
  return {
    stop(reason) {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`stopping: ${reason}\n`);
      handle.abort(reason);
    },
  };
}
