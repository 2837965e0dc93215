// The check's report lines: which exist, their titles, and how a check adds one.
import { CoderApiError } from '../../coder/errors';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export const CHECK_LINE_IDS = [
  'reachable',
  'version',
  'owner',
  'template',
  'agent',
  'echo-app',
  'parameters',
  'external-auth',
  'rate-limits',
  'wildcard',
  'provisioners',
  'queue',
  'licence',
  'coder-cli',
  'prometheus',
  'runner',
  'leftovers',
] as const;
export type CheckLineId = (typeof CHECK_LINE_IDS)[number];

export interface CheckLine {
  id: CheckLineId;
  title: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** What to do about it (empty on a pass). */
  advice?: string;
}

const TITLES: Record<CheckLineId, string> = {
  reachable: 'Deployment reachable',
  version: 'coderd version',
  owner: "Owner's token",
  template: 'Template',
  agent: 'Agent in the template',
  'echo-app': 'Echo app',
  parameters: 'Template parameters',
  'external-auth': 'External auth',
  'rate-limits': 'Rate limits',
  wildcard: 'Wildcard app host',
  provisioners: 'Provisioner daemons',
  queue: 'Provisioner job queue',
  licence: 'Licence seats',
  'coder-cli': 'coder CLI for SSH',
  prometheus: 'Prometheus scrape URLs',
  runner: 'This runner',
  leftovers: 'Leftovers of earlier runs',
};

/** Lines that need what an earlier failure denied are skipped with the reason. */
export class Lines {
  readonly all: CheckLine[] = [];
  add(id: CheckLineId, status: CheckStatus, detail: string, advice?: string): void {
    this.all.push({ id, title: TITLES[id], status, detail, ...(advice ? { advice } : {}) });
  }
  skipRest(reason: string): void {
    for (const id of CHECK_LINE_IDS) if (!this.all.some((line) => line.id === id)) this.add(id, 'skip', reason);
  }
  failed(id: CheckLineId): boolean {
    return this.all.some((line) => line.id === id && line.status === 'fail');
  }
}

/** An error as one line: coderd's message and detail, or the error's own message. */
export const errorMessage = (error: unknown) =>
  error instanceof CoderApiError ? `${error.apiMessage}${error.detail ? ` (${error.detail})` : ''}` : (error as Error).message;
