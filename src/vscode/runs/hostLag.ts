// The extension host's own event-loop delay while a run goes: the runner lives in another
// process, so this should stay small however large the run is (the bench records it).
import { monitorEventLoopDelay, type IntervalHistogram } from 'perf_hooks';

export interface HostLag {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How long it was sampled. */
  durationMs: number;
}

const NS_PER_MS = 1e6;
const RESOLUTION_MS = 10;
/** The histogram holds how late each 10 ms sampling timer fired in total; lag is what exceeds the 10 ms. */
const lagMs = (ns: number) => Math.max(0, Math.round((ns / NS_PER_MS - RESOLUTION_MS) * 10) / 10);

export class HostLagMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly startedAt = Date.now();
  private stoppedAt: number | undefined;

  constructor() {
    this.histogram.enable();
  }

  read(): HostLag {
    return {
      p50Ms: this.histogram.count ? lagMs(this.histogram.percentile(50)) : 0,
      p99Ms: this.histogram.count ? lagMs(this.histogram.percentile(99)) : 0,
      maxMs: this.histogram.count ? lagMs(this.histogram.max) : 0,
      durationMs: (this.stoppedAt ?? Date.now()) - this.startedAt,
    };
  }

  /** Stops sampling; the figures stay readable. */
  stop(): HostLag {
    this.histogram.disable();
    this.stoppedAt ??= Date.now();
    return this.read();
  }

  dispose(): void {
    this.histogram.disable();
  }
}
