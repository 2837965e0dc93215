// API latency and errors per endpoint class, fed by the Coder client's onRequest hook.
import type { RequestInfo } from '../../coder/client';
import type { ApiClassSnapshot, RunSnapshot } from '../../protocol/snapshot';
import { LatencyRecorder } from './stageMetrics';

class ApiClassMetrics {
  requests = 0;
  errors4xx = 0;
  errors5xx = 0;
  networkErrors = 0;
  readonly latency = new LatencyRecorder();

  record(info: RequestInfo): void {
    this.requests++;
    if (info.status === undefined) this.networkErrors++;
    else if (info.status >= 500) this.errors5xx++;
    else if (info.status >= 400) this.errors4xx++;
    if (info.status !== undefined) this.latency.record(info.durationMs);
  }

  snapshot(): ApiClassSnapshot {
    return {
      requests: this.requests,
      errors4xx: this.errors4xx,
      errors5xx: this.errors5xx,
      networkErrors: this.networkErrors,
      latency: this.latency.summary(),
    };
  }
}

export class ApiMetrics {
  private readonly total = new ApiClassMetrics();
  private readonly byClass = new Map<string, ApiClassMetrics>();
  private requestsAtLastRoll = 0;
  private lastRollAt = Date.now();
  /** Requests per second over the last interval and that interval's p95 (for history). */
  recent = { requestsPerSecond: 0, p95Ms: 0 };

  readonly onRequest = (info: RequestInfo): void => {
    this.total.record(info);
    let metrics = this.byClass.get(info.endpointClass);
    if (!metrics) this.byClass.set(info.endpointClass, (metrics = new ApiClassMetrics()));
    metrics.record(info);
  };

  rollInterval(now = Date.now()): void {
    const seconds = Math.max(0.001, (now - this.lastRollAt) / 1000);
    this.recent = {
      requestsPerSecond: (this.total.requests - this.requestsAtLastRoll) / seconds,
      p95Ms: this.total.latency.takeInterval().p95,
    };
    this.requestsAtLastRoll = this.total.requests;
    this.lastRollAt = now;
  }

  snapshot(): RunSnapshot['api'] {
    return {
      total: this.total.snapshot(),
      byClass: Object.fromEntries([...this.byClass].map(([name, metrics]) => [name, metrics.snapshot()])),
      recent: { ...this.recent },
    };
  }

  /** Encoded whole-run latency histograms, for the report. */
  encodedHistograms(): Record<string, string> {
    return {
      total: this.total.latency.encode(),
      ...Object.fromEntries([...this.byClass].map(([name, metrics]) => [name, metrics.latency.encode()])),
    };
  }
}
