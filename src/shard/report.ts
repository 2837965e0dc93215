// The merged run's reports: the same report.json, junit.xml and report.html as a local run,
// written from the merged snapshot and the merged whole-run histograms.
import * as fs from 'fs';
import * as path from 'path';
import type { Plan } from '../engine/plan';
import { junitXml, reportHtml, type RunReport } from '../engine/report';
import type { MergedOutcome, ShardMerger } from './merge';

export async function writeMergedReports(input: { dir: string; plan: Plan; merger: ShardMerger; outcome: MergedOutcome }): Promise<RunReport> {
  const { snapshot } = input.outcome;
  const report: RunReport = {
    schemaVersion: 1,
    runId: snapshot.runId,
    planName: snapshot.planName,
    plan: input.plan,
    verdict: input.outcome.verdict,
    exitCode: input.outcome.exitCode,
    reason: snapshot.reason,
    status: snapshot.status,
    startedAt: snapshot.startedAt,
    finishedAt: snapshot.now,
    deploymentUrl: snapshot.deploymentUrl,
    stages: snapshot.stages,
    thresholds: snapshot.thresholds,
    api: snapshot.api,
    deployment: snapshot.deployment,
    runner: snapshot.runner,
    cleanup: input.outcome.cleanup,
    histograms: input.merger.encodedHistograms(),
    events: input.merger.events.map((event) => ({ ...event, level: event.level as RunReport['events'][number]['level'], stage: event.stage as RunReport['events'][number]['stage'] })),
    snapshot,
  };
  await fs.promises.mkdir(input.dir, { recursive: true });
  await Promise.all([
    fs.promises.writeFile(path.join(input.dir, 'report.json'), JSON.stringify(report, null, 2)),
    fs.promises.writeFile(path.join(input.dir, 'junit.xml'), junitXml(report)),
    fs.promises.writeFile(path.join(input.dir, 'report.html'), reportHtml(report)),
  ]);
  return report;
}
