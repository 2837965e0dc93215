// The fault knobs that act on requests (latency, injected 500s) and the simulated coderd
// restart (health check down, every connection reset). Knobs are documented in docs/faults.md.
import { setTimeout as sleep } from 'timers/promises';
import { endpointClasses, type EndpointClass } from '../../coder/endpointClass';
import { CountedSelector } from '../agent/liveConnections';
import type { SimContext } from '../context';
import { HttpError } from '../http/errors';

export const INJECTED_ERROR = new HttpError(500, 'An internal server error occurred.', 'simulated fault (errorRates)');

export class FaultInjector {
  down = false;
  restarts = 0;
  /** HTTP requests being handled now (the router counts them), for the load-growing API latency. */
  inFlight = 0;
  private restartTimers: NodeJS.Timeout[] = [];
  // Exact fractions, evenly spread (rate 0.1 fails every 10th request), so runs are repeatable.
  private readonly errorSelectors = Object.fromEntries(endpointClasses.map((name) => [name, new CountedSelector()])) as Record<
    EndpointClass,
    CountedSelector
  >;

  private readonly rateLimitSelectors = Object.fromEntries(endpointClasses.map((name) => [name, new CountedSelector()])) as Record<
    EndpointClass,
    CountedSelector
  >;

  constructor(private readonly sim: SimContext) {}

  /** Applies injected latency; resolves with the injected error answer (500 or 429), if any. */
  async inject(endpointClass: EndpointClass): Promise<HttpError | undefined> {
    const faults = this.sim.faults;
    const latency = faults.latency?.[endpointClass] ?? faults.latency?.all;
    if (latency && (latency.ms > 0 || (latency.jitterMs ?? 0) > 0)) {
      const jitter = latency.jitterMs ? (Math.random() * 2 - 1) * latency.jitterMs : 0;
      await sleep(Math.max(0, latency.ms + jitter));
    }
    const loaded = faults.loadLatency?.api;
    const loadMs = loaded ? loaded.msPerRequest * Math.max(0, this.inFlight - (loaded.above ?? 0)) : 0;
    if (loadMs > 0) await sleep(loadMs);
    const rate = faults.errorRates?.[endpointClass] ?? faults.errorRates?.all ?? 0;
    if (rate > 0 && this.errorSelectors[endpointClass].next(rate)) return INJECTED_ERROR;
    // coderd's rate limiter covers the API, not /healthz.
    const limited = endpointClass === 'health' ? undefined : (faults.rateLimited?.[endpointClass] ?? faults.rateLimited?.all);
    if (limited && limited.fraction > 0 && this.rateLimitSelectors[endpointClass].next(limited.fraction)) {
      return new HttpError(
        429,
        "You've been rate limited for sending more than 512 requests in 1m0s.",
        'simulated fault (rateLimited)',
        undefined,
        {
          'Retry-After': String(limited.retryAfterSeconds),
        },
      );
    }
    return undefined;
  }

  /** (Re)schedules the `restart` fault from now. */
  scheduleRestart(): void {
    this.cancel();
    const restart = this.sim.faults.restart;
    if (!restart) return;
    this.restartTimers.push(
      setTimeout(() => {
        this.down = true;
        this.restarts++;
        this.sim.log(`sim: restart fault: coderd down for ${restart.downForMs} ms`);
        this.sim.agents.resetAll();
        for (const socket of this.sim.sockets) socket.destroy();
        for (const socket of this.sim.openWebSockets) socket.destroy();
        this.restartTimers.push(
          setTimeout(() => {
            this.down = false;
            this.sim.metrics.markRestarted();
            this.sim.log('sim: restart fault: coderd back up');
          }, restart.downForMs),
        );
      }, restart.atMs),
    );
  }

  cancel(): void {
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers = [];
  }
}
