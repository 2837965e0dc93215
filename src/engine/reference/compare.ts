// Coder's reference figures beside the measured ones: scaled to the run's users where the
// figure grows with them, one readable sentence per figure, and the reason (with the setting
// that would fix it) where nothing was measured. Pure: fed measurements, returns rows.
import { formatReferenceValue, type ReferenceRow, type ReferenceSnapshot } from '../../protocol/reference';
import {
  REFERENCE_FIGURES,
  REFERENCE_SETUP,
  REFERENCE_SOURCE,
  REFERENCE_USERS,
  type ReferenceFigure,
  type ReferenceSetupItem,
} from './coderReference2000';

/** What the run measured for one figure, or why it could not. */
export interface FigureMeasurement {
  value?: number;
  /** Metric and statistic it was read from. */
  from?: string;
  /** Why there is no value, and which setting would give one. */
  reason?: string;
  /** A caveat shown even with a value (e.g. one replica of several was scraped). */
  caveat?: string;
}

export interface RunnerMachine {
  cores: number;
  memoryBytes: number;
}

/** The reference scaled to `users`: in proportion for linear figures, as published otherwise. */
export function scaledReference(value: number, linear: boolean, users: number, referenceUsers = REFERENCE_USERS): number {
  return linear ? (value * users) / referenceUsers : value;
}

/** A linear figure per 100 users. */
export const per100 = (value: number, users: number) => (value * 100) / users;

const withUnit = (value: number, unit: string) =>
  unit === '%' ? `${formatReferenceValue(value)}%` : `${formatReferenceValue(value)} ${unit}`;

function figureSentence(figure: ReferenceFigure, users: number, measured: number | undefined): string {
  if (figure.linear) {
    const yours = measured === undefined ? 'not measured' : `yours ${withUnit(per100(measured, users), figure.unit)}`;
    return `${figure.short} per 100 users: ${yours}, reference ${formatReferenceValue(per100(figure.value, REFERENCE_USERS))}`;
  }
  const yours = measured === undefined ? 'not measured' : `yours ${withUnit(measured, figure.unit)}`;
  return `${figure.short}: ${yours}, reference ${withUnit(figure.value, figure.unit)}`;
}

function figureRow(figure: ReferenceFigure, users: number, measurement: FigureMeasurement | undefined): ReferenceRow {
  const expected = scaledReference(figure.value, figure.linear, users);
  const measured = measurement?.value;
  return {
    id: figure.id,
    group: figure.group,
    title: figure.title,
    unit: figure.unit,
    reference: figure.value,
    linear: figure.linear,
    expected,
    ...(measured !== undefined ? { measured, measuredFrom: measurement?.from } : {}),
    ...(measured !== undefined && expected > 0 ? { ratio: measured / expected } : {}),
    sentence: figureSentence(figure, users, measured),
    ...(measured === undefined ? { note: measurement?.reason ?? 'not measured' } : measurement?.caveat ? { note: measurement.caveat } : {}),
  };
}

const SETUP_NOTES: Record<string, string> = {
  'setup.coderd':
    "coderd's CPU and memory limits are not visible through its API or metrics: compare your replicas' limits (Helm value `coder.resources`) with it.",
  'setup.database': "The database's size is not visible to the runner: compare your PostgreSQL instance's vCPU and memory with it.",
  'setup.provisioners':
    'Compare the number of provisioner daemons of your deployment with it; each runs one workspace build at a time, so it bounds concurrent builds, not users.',
};

function setupRow(item: ReferenceSetupItem, users: number, runner: RunnerMachine | undefined): ReferenceRow {
  const referenceCores = item.instances * item.vcpu;
  const referenceMemory = item.instances * item.memoryGb;
  const expected = scaledReference(referenceCores, item.linear, users);
  const size = `${item.instances > 1 ? `${item.instances} × ` : ''}${formatReferenceValue(item.vcpu)} vCPU / ${formatReferenceValue(item.memoryGb)} GB`;
  const measured = item.id === 'setup.runner' && runner ? runner.cores : undefined;
  const yours =
    measured !== undefined && runner
      ? `yours ${measured} vCPU / ${formatReferenceValue(runner.memoryBytes / 1024 ** 3)} GB`
      : 'not measured';
  const scaled = item.linear
    ? ` (${formatReferenceValue(per100(referenceCores, REFERENCE_USERS))} vCPU per 100 users: ${formatReferenceValue(expected)} vCPU for ${users})`
    : '';
  return {
    id: item.id,
    group: 'setup',
    title: `${item.title}: ${size}`,
    unit: 'vCPU',
    reference: referenceCores,
    linear: item.linear,
    expected,
    ...(measured !== undefined
      ? { measured, measuredFrom: "the runner machine's CPUs and memory", ratio: expected > 0 ? measured / expected : undefined }
      : {}),
    sentence: `${item.title}: ${yours}, reference ${size}${item.instances > 1 ? ` (${formatReferenceValue(referenceCores)} vCPU / ${formatReferenceValue(referenceMemory)} GB in all)` : ''} for ${REFERENCE_USERS} users${scaled}`,
    ...(measured === undefined ? { note: SETUP_NOTES[item.id] ?? 'not measured' } : {}),
  };
}

/** The reference table of a run with `users` users. */
export function referenceTable(
  users: number,
  measurements: Partial<Record<string, FigureMeasurement>>,
  runner?: RunnerMachine,
): ReferenceSnapshot {
  const base = Math.max(1, users);
  return {
    source: { ...REFERENCE_SOURCE },
    referenceUsers: REFERENCE_USERS,
    users: base,
    rows: [
      ...REFERENCE_FIGURES.map((figure) => figureRow(figure, base, measurements[figure.id])),
      ...REFERENCE_SETUP.map((item) => setupRow(item, base, runner)),
    ],
  };
}

/** The measured figures in one line for the CLI: "vs Coder's reference (yours / reference; per 100 users where it scales): …". */
export function referenceSummaryLine(reference: ReferenceSnapshot | undefined): string | undefined {
  if (!reference) return undefined;
  const parts = reference.rows
    .filter((row) => row.group !== 'setup' && row.measured !== undefined)
    .map((row) => {
      const figure = REFERENCE_FIGURES.find((f) => f.id === row.id);
      const [yours, theirs] = row.linear
        ? [per100(row.measured!, reference.users), per100(row.reference, reference.referenceUsers)]
        : [row.measured!, row.reference];
      return `${figure?.short ?? row.title} ${formatReferenceValue(yours)} / ${withUnit(theirs, row.unit)}`;
    });
  if (parts.length === 0)
    return "vs Coder's reference: nothing measured (see the report's reference section for the settings that measure it)";
  return `vs Coder's reference (yours / reference, per 100 users where it scales): ${parts.join(', ')}`;
}
