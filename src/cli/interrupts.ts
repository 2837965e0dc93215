// Stop signals for a run or a cleanup. SIGINT (Ctrl-C), SIGTERM (CI time-outs, `timeout`,
// `docker stop`, Kubernetes) and SIGHUP (a closed terminal) all mean "stop": none of them may
// leave resources behind without saying so.
//   1st signal: stop — traffic and prepare end, cleanup runs, the (partial) report is written.
//   2nd signal: hurry — cleanup starts no new deletion and stops waiting for those under way;
//               the report is still written and names what is left, with the exact
//               `coder-scaletest cleanup --run-id` command.
//   3rd signal: exit at once (130), printing that command.
import type { Output } from './progress';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Exit code of a run or cleanup stopped by a signal (any of STOP_SIGNALS). */
export const ABORTED_EXIT = 130;

export interface Interrupts {
  /** Aborted by the first signal (or the caller's own signal). */
  stop: AbortSignal;
  /** Aborted by the second signal. */
  hurry: AbortSignal;
  dispose(): void;
}

export interface InterruptWording {
  /** What the first signal does, e.g. "stopping traffic, cleaning up and writing the partial report". */
  stop: string;
  /** What the second signal does. */
  hurry: string;
  /** The command that removes what is left (printed by the second and third signals). */
  cleanupCommand(): string | undefined;
}

export function watchInterrupts(stderr: Output, wording: InterruptWording, callerSignal?: AbortSignal): Interrupts {
  const stop = new AbortController();
  const hurry = new AbortController();
  if (callerSignal?.aborted) stop.abort();
  else callerSignal?.addEventListener('abort', () => stop.abort(), { once: true });
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    const command = wording.cleanupCommand();
    const hint = command ? `; what is left can be removed with: ${command}` : '';
    if (received === 1) {
      stderr.write(`\n${signal}: ${wording.stop} (send it again to ${wording.hurry})\n`);
      stop.abort(`stopped by ${signal}`);
    } else if (received === 2) {
      stderr.write(`\n${signal} again: ${wording.hurry}${hint} (a third one exits at once)\n`);
      stop.abort(`stopped by ${signal}`);
      hurry.abort(`stopped by ${signal} twice`);
    } else {
      stderr.write(`\n${signal} a third time: exiting now, without waiting${hint}\n`);
      process.exit(ABORTED_EXIT);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    stop: stop.signal,
    hurry: hurry.signal,
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}
