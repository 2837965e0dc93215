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
  /**
   * The most a stage's ramp-up may be held back in all. A loop that stays busy is not a burst
   * but an overloaded runner (reported as such): waiting longer would only slow the ramp-up.
   */
  budgetMs: number;
}

export const DEFAULT_PACE: PaceOptions = { maxLagMs: 20, backoffMs: 25, budgetMs: 3000 };

/** How late a 1 ms timer fires right now: the event loop's current lag. */
export async function probeEventLoopLag(): Promise<number> {
  const asked = performance.now();
  await delay(1);
  return Math.max(0, performance.now() - asked - 1);
}

/** Holds new connections back while the event loop lags, within a total budget per stage. */
export class RampPacer {
  private spentMs = 0;

  constructor(private readonly options: PaceOptions = DEFAULT_PACE) {}

  /** Resolves once the lag is under the limit, the budget is spent, or `signal` aborts. */
  async beforeConnect(signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted && this.spentMs < this.options.budgetMs) {
      const started = performance.now();
      const lag = await probeEventLoopLag();
      if (lag < this.options.maxLagMs) return;
      await delay(this.options.backoffMs, undefined, { signal }).catch(() => undefined);
      this.spentMs += performance.now() - started;
    }
  }

  /** Total time connections were held back so far. */
  heldBackMs(): number {
    return this.spentMs;
  }
}
