// The morning rush's sentence, worded from its finished snapshot (pure, so the descriptor can
// carry it without the runner's code): how long until 50 / 95 / 100 % of users had a ready
// workspace, the provisioner queue's peak, and Coder's reference deployment's provisioners
// scaled to the run — the figure that sizes provisioners.
import type { StageSummaryInput } from '../presentation';

/** Coder's reference deployment: 50 provisioners for 2000 users. */
const REFERENCE_PROVISIONERS = 50;
const REFERENCE_USERS = 2000;

/** The rank of the user whose workspace makes `share` (0..1] of `total` users ready. */
function rankFor(total: number, share: number): number {
  return Math.max(1, Math.ceil(share * total));
}

/** The time for `share` of `total` users to be ready, from sorted ready times (ms); undefined when not reached. */
export function timeToShare(sortedReadyMs: readonly number[], total: number, share: number): number | undefined {
  return sortedReadyMs[rankFor(total, share) - 1];
}

export function rushDuration(ms: number | undefined): string {
  if (ms === undefined) return 'not reached';
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

export interface RushFigures {
  users: number;
  queuePeak: number;
  /** Provisioner daemons online at the end; undefined when the deployment does not list them. */
  provisioners?: number;
  /** The time until the user of this rank (1-based, by ready time) was ready, ms. */
  readyAtRank(rank: number): number | undefined;
}

/** The sentence itself. */
export function rushSentence(figures: RushFigures): string {
  const { users, queuePeak, provisioners } = figures;
  const at = (share: number) => rushDuration(figures.readyAtRank(rankFor(users, share)));
  const scaled = (REFERENCE_PROVISIONERS * users) / REFERENCE_USERS;
  const ours = provisioners === undefined ? 'an unknown number of provisioners' : `${provisioners} provisioner(s)`;
  return (
    `50 % of ${users} users had a ready workspace after ${at(0.5)}, 95 % after ${at(0.95)}, 100 % after ${at(1)}; ` +
    `the provisioner queue peaked at ${queuePeak} job(s) with ${ours} ` +
    `(the reference deployment runs ${REFERENCE_PROVISIONERS} for ${REFERENCE_USERS} users: ${Number(scaled.toFixed(1))} for ${users})`
  );
}

/** The descriptor's `summary`: the sentence from the stage's snapshot (users = its target; ready times = its latency). */
export function rushSummary({ stage, latencyAtRank }: StageSummaryInput): string | undefined {
  const users = stage.connections.target;
  if (users === 0) return undefined;
  return rushSentence({
    users,
    queuePeak: stage.figures?.queue_peak ?? 0,
    provisioners: stage.figures?.provisioners,
    readyAtRank: latencyAtRank,
  });
}
