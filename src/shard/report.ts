// The merged run's reports: the same report.json, junit.xml and report.html as a local run
// (the engine's report writer), from the merged snapshot and the merged whole-run histograms.
import type { Plan } from '../engine/plan/plan';
import { writeReports, type RunReport } from '../engine/outputs/report/report';
import type { RunEvent } from '../engine/run/outcome';
import type { MergedOutcome, ShardMerger } from './merge';

export async function writeMergedReports(input: {
  dir: string;
  plan: Plan;
  merger: ShardMerger;
  outcome: MergedOutcome;
}): Promise<RunReport> {
  const { outcome } = input;
  const rows = input.merger.workspaceRows();
  return writeReports(
    input.dir,
    {
      verdict: outcome.verdict,
      exit: outcome.exit,
      exitCode: outcome.exitCode,
      reportDir: input.dir,
      snapshot: outcome.snapshot,
      cleanup: outcome.cleanup,
    },
    {
      plan: input.plan,
      histograms: input.merger.encodedHistograms(),
      events: input.merger.events as RunEvent[],
      baseline: input.merger.baseline,
      workspaces: rows.length > 0 ? rows : undefined,
    },
  );
}
