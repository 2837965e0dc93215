// Coder's published reference figures beside what the run measured, as every face shows them
// (report, webview, CLI). Plain JSON, built by src/engine/reference.

/** What a figure is about: the Coder control plane, its provisioners, its database, or the test set-up. */
export type ReferenceGroup = 'coderd' | 'provisionerd' | 'database' | 'setup';

export interface ReferenceRow {
  /** Stable id, e.g. `coderd.cpu.median`. */
  id: string;
  group: ReferenceGroup;
  /** What the figure is, e.g. `coderd CPU, median while traffic runs`. */
  title: string;
  unit: string;
  /** Coder's figure, at the reference user count. */
  reference: number;
  /** True when the figure grows in proportion to the users (CPU, request rate, WebSockets). */
  linear: boolean;
  /** The reference scaled to this run's users (linear figures), else the reference itself. */
  expected: number;
  /** What this run measured, when it could. */
  measured?: number;
  /** Where the measured figure comes from (metric and statistic). */
  measuredFrom?: string;
  /** measured / expected, when both exist and expected > 0. */
  ratio?: number;
  /** One line to read: "coderd CPU per 100 users: yours 0.21 cores, reference 0.15". */
  sentence: string;
  /** Why nothing was measured and which setting would measure it; or a caveat of the figure. */
  note?: string;
}

export interface ReferenceSnapshot {
  /** The page the figures come from. */
  source: { title: string; url: string };
  /** Users of Coder's reference run (2000). */
  referenceUsers: number;
  /** Users of this run (the base of the linear scaling). */
  users: number;
  /** In a capacity search: the step the figures are from (the current one, or the largest that passed). */
  step?: { index: number; users: number };
  rows: ReferenceRow[];
}

/** A figure as the reference table shows it: 0.15, 17.5, 350, 2,400. */
export function formatReferenceValue(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  if (Number.isInteger(value) || magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** Whose users the table is scaled to: the run's, or a capacity-search step's. */
export function referenceScopeText(reference: ReferenceSnapshot): string {
  return reference.step
    ? `the ${reference.step.users} users of capacity-search step ${reference.step.index}`
    : `this run's ${reference.users} users`;
}
