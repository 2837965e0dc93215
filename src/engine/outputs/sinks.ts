// Outputs as sinks (after k6's outputs): a run publishes its snapshots (once a second, always
// complete), its events and, at the end, its result with the artefacts reports need. The
// report writer, the CLI's live table or NDJSON and the extension's views subscribe; the run
// never formats for any of them. A failing sink is reported and never stops the run.
import type { PreRunCheckRecord } from '../run/options';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { WorkspaceRow } from '../../protocol/workspaces';
import type { BaselineLookup } from '../baseline/store';
import type { Plan } from '../plan/plan';
import type { RunEvent, RunResult } from '../run/outcome';

/** What a finished run hands to sinks beyond its result: for reports and tools. */
export interface RunArtifacts {
  plan: Plan;
  /** Whole-run HDR histograms (microseconds), compressed base64 (hdr-histogram-js encoding). */
  histograms: { stages: Record<string, string>; api: Record<string, string> };
  /** The run's recent events (bounded). */
  events: RunEvent[];
  /** The plan's baseline as the run found it at its start (docs/baselines.md). */
  baseline?: BaselineLookup;
  /** The pre-run check the run was started after, or that it was skipped. */
  preRunCheck?: PreRunCheckRecord;
  /** Every workspace's figures, in user order (none: the run had no workspace figures). */
  workspaces?: WorkspaceRow[];
}

export interface RunSink {
  snapshot?(snapshot: RunSnapshot): void;
  event?(event: RunEvent): void;
  /** Once, when the run is over (cleanup done); the run's `done` waits for it. */
  finish?(result: RunResult, artifacts: RunArtifacts): void | Promise<void>;
}

export class SinkSet {
  private readonly sinks = new Set<RunSink>();

  constructor(private readonly onSinkError: (error: Error) => void) {}

  add(sink: RunSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  snapshot(snapshot: RunSnapshot): void {
    for (const sink of this.sinks) this.guard(() => sink.snapshot?.(snapshot));
  }

  event(event: RunEvent): void {
    for (const sink of this.sinks) {
      // A sink's failure is itself an event: not sent back to the sink that failed (no loop).
      try {
        sink.event?.(event);
      } catch (error) {
        this.onSinkError(error as Error);
      }
    }
  }

  async finish(result: RunResult, artifacts: RunArtifacts): Promise<void> {
    for (const sink of [...this.sinks]) {
      try {
        await sink.finish?.(result, artifacts);
      } catch (error) {
        this.onSinkError(error as Error);
      }
    }
  }

  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.onSinkError(error as Error);
    }
  }
}

/** The last `limit` events, for the report. */
export class EventLog implements RunSink {
  readonly events: RunEvent[] = [];

  constructor(private readonly limit = 500) {}

  event(event: RunEvent): void {
    this.events.push(event);
    if (this.events.length > this.limit) this.events.shift();
  }
}
