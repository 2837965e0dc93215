// Cleanup: delete what a run created — workspaces first (cancel an active build, then a
// delete build, and wait), then users — with bounded concurrency. 404/410 mean already gone.
// `cleanupRun` finds the leftovers of a killed run by its id in names, never anything broader.
// An abort stops new deletions only: those under way finish (or time out), and whatever was
// not deleted is reported as a leftover.
import { CoderClient } from '../coder/client';
import type { DeploymentConnection } from '../coder/connection';
import { CoderApiError } from '../coder/errors';
import type { StageMetrics } from './metrics';
import { checkRunId, isRunUser, isRunWorkspace, runIdOfUser } from './naming';
import { runPool } from './pool';
import type { CreatedResources } from './prepare';

export interface CleanupOutcome {
  deletedWorkspaces: number;
  deletedUsers: number;
  /** Names of what could not be deleted (to be removed by `cleanup --run-id` or by hand). */
  leftovers: string[];
}

export interface CleanupOptions {
  owner: CoderClient;
  concurrency: number;
  /** Longest wait for one workspace's builds. */
  timeoutMs: number;
  metrics?: StageMetrics;
  /** Stops starting new deletions. */
  signal?: AbortSignal;
  /** After each deletion (done or failed). */
  onProgress?(progress: CleanupProgress): void;
  log?(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface CleanupProgress {
  done: number;
  total: number;
  failed: number;
}

const ACTIVE_JOB = new Set(['pending', 'running', 'canceling']);
const gone = (error: unknown) => error instanceof CoderApiError && (error.status === 404 || error.status === 410);

export async function deleteResources(created: CreatedResources, options: CleanupOptions): Promise<CleanupOutcome> {
  const { owner, metrics } = options;
  const outcome: CleanupOutcome = { deletedWorkspaces: 0, deletedUsers: 0, leftovers: [] };
  const progress: CleanupProgress = { done: 0, total: created.workspaces.size + created.users.size, failed: 0 };
  if (metrics) metrics.progress = progress;
  const fail = (kind: string, name: string, error: unknown) => {
    progress.failed++;
    metrics?.countError(kind);
    outcome.leftovers.push(name);
    options.log?.('warn', `could not delete ${name}: ${(error as Error).message}`);
  };
  const attempted = new Set<string>();

  await runPool(
    [...created.workspaces],
    options.concurrency,
    async ([id, name]) => {
      attempted.add(id);
      try {
        if (await deleteWorkspace(owner, id, options.timeoutMs)) outcome.deletedWorkspaces++;
        progress.done++;
      } catch (error) {
        fail('delete_workspace', `workspace ${name}`, error);
      }
      options.onProgress?.(progress);
    },
    options.signal,
  );
  await runPool(
    [...created.users],
    options.concurrency,
    async ([id, username]) => {
      attempted.add(id);
      try {
        await owner.deleteUser(id);
        outcome.deletedUsers++;
        progress.done++;
      } catch (error) {
        if (gone(error)) progress.done++;
        else fail('delete_user', `user ${username}`, error);
      }
      options.onProgress?.(progress);
    },
    options.signal,
  );
  const skipped = [
    ...[...created.workspaces].filter(([id]) => !attempted.has(id)).map(([, name]) => `workspace ${name}`),
    ...[...created.users].filter(([id]) => !attempted.has(id)).map(([, name]) => `user ${name}`),
  ];
  if (skipped.length) {
    outcome.leftovers.push(...skipped);
    options.log?.('warn', `cleanup stopped before deleting ${skipped.length} resource(s): ${skipped.join(', ')}`);
  }
  return outcome;
}

/** Resolves true when this call deleted it, false when it was already gone. */
async function deleteWorkspace(owner: CoderClient, id: string, timeoutMs: number): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const workspace = await owner.getWorkspace(id, { signal });
    const latest = workspace.latest_build;
    if (latest.transition === 'delete' && latest.job.status === 'succeeded') return false;
    if (ACTIVE_JOB.has(latest.job.status)) {
      if (latest.transition !== 'delete') await owner.cancelBuild(latest.id).catch(() => undefined);
      await owner.waitForBuild(latest.id, { signal }).catch(() => undefined);
      if (latest.transition === 'delete') {
        const after = await owner.getBuild(latest.id, signal);
        if (after.job.status === 'succeeded') return true;
      }
    }
    const build = await owner.createBuild(id, { transition: 'delete' });
    await owner.waitForBuild(build.id, { signal });
    return true;
  } catch (error) {
    if (gone(error)) return false;
    if (signal.aborted) throw new Error(`deletion did not finish within ${Math.round(timeoutMs / 1000)} s`);
    throw error;
  }
}

/** Finds (by run id in names, paging through results) what a run left behind. */
export async function findRunResources(owner: CoderClient, runId: string): Promise<CreatedResources> {
  checkRunId(runId);
  const found: CreatedResources = { users: new Map(), workspaces: new Map() };
  const limit = 100;
  const workspaces = [];
  for (let offset = 0; ; offset += limit) {
    const page = await owner.listWorkspaces({ q: `name:"${runId}"`, offset, limit });
    workspaces.push(...page.workspaces);
    if (page.workspaces.length < limit) break;
  }
  for (const workspace of workspaces) if (isRunWorkspace(workspace.name, runId)) found.workspaces.set(workspace.id, workspace.name);
  for (let offset = 0; ; offset += limit) {
    const page = await owner.listUsers({ q: runId, offset, limit });
    for (const user of page.users) if (isRunUser(user.username, runId)) found.users.set(user.id, user.username);
    if (page.users.length < limit) break;
  }
  return found;
}

/** Run ids that still have scale-test users on the deployment, with how many (read-only). */
export async function listLeftoverRuns(connection: DeploymentConnection): Promise<Map<string, number>> {
  const owner = new CoderClient(connection);
  const runs = new Map<string, number>();
  try {
    await owner.requireOwner();
    const limit = 100;
    for (let offset = 0; ; offset += limit) {
      const page = await owner.listUsers({ q: 'scaletest-', offset, limit });
      for (const user of page.users) {
        const runId = runIdOfUser(user.username);
        if (runId) runs.set(runId, (runs.get(runId) ?? 0) + 1);
      }
      if (page.users.length < limit) break;
    }
    return runs;
  } finally {
    owner.close();
  }
}

export interface CleanupRunOptions {
  connection: DeploymentConnection;
  runId: string;
  concurrency?: number;
  timeoutMs?: number;
  /** Stops starting new deletions; those under way finish or time out; the rest are reported as leftovers. */
  signal?: AbortSignal;
  onProgress?(progress: CleanupProgress): void;
  log?(level: 'info' | 'warn' | 'error', message: string): void;
}

/** Deletes every user and workspace of `runId` still on the deployment (for a killed run). */
export async function cleanupRun(options: CleanupRunOptions): Promise<CleanupOutcome & { found: { users: number; workspaces: number } }> {
  const owner = new CoderClient(options.connection, { bypassRateLimit: true });
  try {
    await owner.requireOwner();
    const found = await findRunResources(owner, options.runId);
    options.log?.('info', `run ${options.runId}: found ${found.workspaces.size} workspace(s) and ${found.users.size} user(s)`);
    const outcome = await deleteResources(found, {
      owner,
      concurrency: options.concurrency ?? 10,
      timeoutMs: options.timeoutMs ?? 600_000,
      signal: options.signal,
      onProgress: options.onProgress,
      log: options.log,
    });
    return { ...outcome, found: { users: found.users.size, workspaces: found.workspaces.size } };
  } finally {
    owner.close();
  }
}
