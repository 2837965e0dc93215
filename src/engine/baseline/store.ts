// Baselines: a finished run marked as the reference of its plan. Stored beside the reports, in
// `<out>/baselines/<plan-slug>.json`, as a copy of what a comparison needs (the final snapshot
// without its history, and the encoded HDR histograms), so deleting the run's directory does
// not break the baseline. A baseline belongs to a plan by name; its "shape" (users, timeline,
// traffic, concurrency: what changes the measured figures) is hashed, so a run of a changed
// plan can tell that the baseline no longer fits. See docs/baselines.md.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { RunSnapshot } from '../../protocol/snapshot';
import type { Plan } from '../plan/plan';
import { readReport } from '../outputs/report/reportFile';
import type { RunReport } from '../outputs/report/report';
import type { RunArtifacts } from '../outputs/sinks';

export const BASELINES_DIR = 'baselines';

/** The plan fields that change what a run measures; thresholds, names and cleanup do not. */
const SHAPE_FIELDS = ['users', 'timeline', 'traffic', 'concurrency'] as const;
type PlanShape = Partial<Record<(typeof SHAPE_FIELDS)[number], unknown>>;

export interface BaselineRecord {
  schemaVersion: 1;
  planName: string;
  /** sha256 (16 hex digits) of the plan's shape, see planShapeHash. */
  planHash: string;
  planShape: PlanShape;
  runId: string;
  /** Where the run's reports were when it was marked (they may be gone since). */
  reportDir: string;
  markedAt: number;
  startedAt: number;
  deploymentUrl: string;
  verdict: RunSnapshot['verdict'];
  /** The run's final snapshot, history left out (a baseline is compared on its totals). */
  snapshot: RunSnapshot;
  histograms: RunArtifacts['histograms'];
}

/** What a run finds for its plan: a baseline that fits, one measured with another plan shape, or none. */
export type BaselineLookup =
  | { kind: 'ok'; record: BaselineRecord }
  | { kind: 'stale'; record: BaselineRecord; differences: string[] }
  | { kind: 'none'; file: string; problem?: string };

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
};

export function planShape(plan: Plan): PlanShape {
  return Object.fromEntries(SHAPE_FIELDS.map((field) => [field, canonical(plan[field])]));
}

export function planShapeHash(plan: Plan): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(planShape(plan)))
    .digest('hex')
    .slice(0, 16);
}

/** Which shape fields differ, in words (`users 10 → 20`, `traffic changed`). */
export function shapeDifferences(before: PlanShape, now: PlanShape): string[] {
  return SHAPE_FIELDS.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(now[field])).map((field) =>
    typeof now[field] === 'number' || typeof before[field] === 'number'
      ? `${field} ${String(before[field])} → ${String(now[field])}`
      : `${field} changed`,
  );
}

/** A file name from the plan name: lowercase letters, digits and dashes. */
export function planSlug(planName: string): string {
  const slug = planName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return slug || 'plan';
}

export function baselineFile(outDir: string, planName: string): string {
  return path.join(outDir, BASELINES_DIR, `${planSlug(planName)}.json`);
}

/** Reads a baseline file; null when there is none (or it belongs to another plan of the same slug). */
export function readBaseline(outDir: string, planName: string): BaselineRecord | null {
  const file = baselineFile(outDir, planName);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read the baseline ${file}: ${(error as Error).message}`);
  }
  const record = parseBaseline(text, file);
  return record.planName === planName ? record : null;
}

function parseBaseline(text: string, file: string): BaselineRecord {
  let record: BaselineRecord;
  try {
    record = JSON.parse(text) as BaselineRecord;
  } catch (error) {
    throw new Error(`the baseline ${file} is not valid JSON (${(error as Error).message}); delete it or mark a new baseline`);
  }
  if (record?.schemaVersion !== 1 || !record.snapshot || !record.histograms) {
    throw new Error(`${file} is not a coder-scaletest baseline (schemaVersion 1); delete it or mark a new baseline`);
  }
  return record;
}

/** The baseline a run of `plan` compares with. A broken file is reported as none, with the reason. */
export function lookupBaseline(outDir: string, plan: Plan): BaselineLookup {
  const file = baselineFile(outDir, plan.name);
  const record = readBaseline(outDir, plan.name);
  if (!record) return { kind: 'none', file };
  if (record.planHash === planShapeHash(plan)) return { kind: 'ok', record };
  return { kind: 'stale', record, differences: shapeDifferences(record.planShape, planShape(plan)) };
}

/** lookupBaseline for a run about to start: an unreadable baseline file is no baseline, with the reason. */
export function baselineForRun(outDir: string, plan: Plan): BaselineLookup {
  try {
    return lookupBaseline(outDir, plan);
  } catch (error) {
    return { kind: 'none', file: baselineFile(outDir, plan.name), problem: (error as Error).message };
  }
}

/** A baseline from a finished run's report. */
export function baselineFromReport(report: RunReport, reportDir: string, now = Date.now()): BaselineRecord {
  return {
    schemaVersion: 1,
    planName: report.planName,
    planHash: planShapeHash(report.plan),
    planShape: planShape(report.plan),
    runId: report.runId,
    reportDir: path.resolve(reportDir),
    markedAt: now,
    startedAt: report.startedAt,
    deploymentUrl: report.deploymentUrl,
    verdict: report.verdict,
    snapshot: { ...report.snapshot, history: [] },
    histograms: report.histograms,
  };
}

/** Why a run cannot be a baseline, or undefined when it can. */
export function unfitForBaseline(report: Pick<RunReport, 'status' | 'runId'>): string | undefined {
  if (report.status !== 'finished')
    return `run ${report.runId} did not finish (status ${report.status}): only a finished run can be a baseline`;
  return undefined;
}

/**
 * Marks the run whose reports are in `reportDir` as the baseline of its plan, in
 * `<outDir>/baselines/`. Returns the record and the file; a previous baseline is replaced.
 */
export function markBaseline(reportDir: string, outDir: string): { record: BaselineRecord; file: string; replaced?: string } {
  const report = readReport(reportDir);
  const unfit = unfitForBaseline(report);
  if (unfit) throw new Error(unfit);
  const record = baselineFromReport(report, reportDir);
  const file = baselineFile(outDir, record.planName);
  const previous = readBaselineQuietly(file);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Write then rename: a reader (a run starting now) never sees half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(record)}\n`);
  fs.renameSync(temporary, file);
  return { record, file, replaced: previous && previous.runId !== record.runId ? previous.runId : undefined };
}

function readBaselineQuietly(file: string): BaselineRecord | undefined {
  try {
    return parseBaseline(fs.readFileSync(file, 'utf8'), file);
  } catch {
    return undefined;
  }
}

/** Removes the plan's baseline; returns the run id it pointed at, or undefined when there was none. */
export function clearBaseline(outDir: string, planName: string): string | undefined {
  const record = readBaseline(outDir, planName);
  if (!record) return undefined;
  fs.rmSync(baselineFile(outDir, planName));
  return record.runId;
}

/** Every baseline in `<outDir>/baselines/` (unreadable files are skipped). */
export function listBaselines(outDir: string): BaselineRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(outDir, BASELINES_DIR)).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .map((name) => readBaselineQuietly(path.join(outDir, BASELINES_DIR, name)))
    .filter((record): record is BaselineRecord => record !== undefined);
}
