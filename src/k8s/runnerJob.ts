// The runner child's job when the extension asks for a run on Kubernetes ("Run on
// Kubernetes…"): the same messages as a local run (runStarted, snapshot, log, runDone, failed;
// docs/runner-protocol.md), with `k8s run`'s launch and the shared coordinator behind them.
import { parsePlanText, PlanError } from '../engine';
import { newRunId } from '../engine/run/naming';
import type { HostToRunner, KubernetesRunSpec, RunnerLogLevel } from '../protocol/runner';
import type { RunSnapshot } from '../protocol/snapshot';
import { coordinate } from '../shard/coordinator';
import { KubernetesAccessError } from './cluster';
import { launchKubernetesRun } from './launch';

type StartRun = Extract<HostToRunner, { type: 'startRun' }>;

/** What the runner child lends the job: its IPC send and its exit. */
export interface RunnerChannel {
  send(
    message:
      | { type: 'runStarted'; runId: string; pid: number }
      | { type: 'snapshot'; snapshot: RunSnapshot }
      | { type: 'log'; level: RunnerLogLevel; line: string }
      | { type: 'runDone'; snapshot: RunSnapshot; reportDir: string; exitCode: number }
      | { type: 'failed'; message: string },
  ): Promise<void>;
  finish(code: number): Promise<never>;
}

/** Starts the job; the first stop deletes the Job (shards clean up), a second kills the pods. */
export function runKubernetesJob(request: StartRun, spec: KubernetesRunSpec, channel: RunnerChannel): { stop(reason: string): void } {
  const stop = new AbortController();
  const hurry = new AbortController();
  const log = (line: string) =>
    void channel.send({ type: 'log', level: /error|lost|forbidden|cannot/i.test(line) ? 'warn' : 'info', line });
  void (async () => {
    let plan;
    try {
      plan = parsePlanText(request.planText, request.planSource);
    } catch (error) {
      await channel.send({ type: 'failed', message: error instanceof PlanError ? error.problems.join('\n') : (error as Error).message });
      return channel.finish(2);
    }
    const connection = { url: request.connection.url, token: request.connection.token ?? '', tls: request.connection.tls };
    let launched;
    try {
      launched = await launchKubernetesRun({
        ...spec,
        plan,
        connection,
        runId: newRunId(plan.runIdPrefix),
        startDelayS: spec.startDelayS ?? 90,
        out: request.outDir,
        log,
      });
    } catch (error) {
      await channel.send({ type: 'failed', message: (error as Error).message });
      return channel.finish(error instanceof KubernetesAccessError ? 3 : 2);
    }
    await channel.send({ type: 'runStarted', runId: launched.runId, pid: process.pid });
    const outcome = await coordinate({
      ...launched,
      plan,
      connection,
      stop: stop.signal,
      hurry: hurry.signal,
      onSnapshot: (snapshot) => void channel.send({ type: 'snapshot', snapshot }),
      log,
    });
    await channel.send({
      type: 'runDone',
      snapshot: { ...outcome.snapshot, reportDir: launched.reportDir },
      reportDir: launched.reportDir,
      exitCode: outcome.exitCode,
    });
    return channel.finish(0);
  })().catch(async (error: Error) => {
    await channel.send({ type: 'failed', message: error.message });
    await channel.finish(1);
  });
  return {
    stop(reason) {
      log(`stopping: ${reason}`);
      if (stop.signal.aborted) hurry.abort();
      else stop.abort(reason);
    },
  };
}
