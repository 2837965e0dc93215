// Connection set-up paced by the runner's own event-loop lag: a burst of handshakes (key
// exchange, TLS, process start-up) on the thread that also sends every established
// connection's ticks would delay those ticks, and the delay would be blamed on the deployment.
import { performance } from 'perf_hooks';
import { setTimeout as delay } from 'timers/promises';

export interface PaceOptions {
  /** Lag above which no new connection is opened yet. */
  maxLagMs: number;
  /** Wait between probes while the loop is busy. */
  backoffMs: number;
  /** Give up waiting after this long and go on: pacing must never stall a stage for good. */
  maxWaitMs: number;
}

export const DEFAULT_PACE: PaceOptions = { maxLagMs: 20, backoffMs: 25, maxWaitMs: 2000 };

/** How late a 1 ms timer fires right now: the event loop's current lag. */
export async function probeEventLoopLag(): Promise<number> {
  const asked = performance.now();
  await delay(1);
  return Math.max(0, performance.now() - asked - 1);
}

/** Resolves once the event loop's lag is under `maxLagMs` (or after `maxWaitMs`, or on abort). */
export async function waitForCalmEventLoop(signal: AbortSignal | undefined, options: PaceOptions = DEFAULT_PACE): Promise<void> {
  const giveUpAt = performance.now() + options.maxWaitMs;
  while (!signal?.aborted && performance.now() < giveUpAt) {
    if ((await probeEventLoopLag()) < options.maxLagMs) return;
    await delay(options.backoffMs, undefined, { signal }).catch(() => undefined);
  }
}
