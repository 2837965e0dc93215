// Cleanup: delete what a run created — workspaces first (cancel an active build, then a
// delete build, and wait), then each user once the deployment confirms it owns no workspace —
// with bounded concurrency. 404/410 mean already gone. Transient failures (5xx, 429, a dropped
// connection, a timed-out request) are retried with backoff within the deletion's time limit:
// every step re-reads the deployment first, so a retry never does a thing twice.
// An abort stops new deletions only: those under way finish (or time out), unless `abandon`
// cuts them short too. Whatever the deployment still holds at the end is reported as a leftover
// (the list is checked against the deployment, not taken from memory).
import { CoderClient } from '../../coder/client';
import type { DeploymentConnection } from '../../coder/connection';
import { CoderApiError } from '../../coder/errors';
import type { StageMetrics } from '../metrics/stageMetrics';
import type { RunEventCode } from '../run/outcome';
import type { Plan } from '../plan/plan';
import { runPool } from '../common/pool';
import type { CreatedResources } from '../prepare/prepare';
import { isTransient, withRetries } from '../common/retry';
import { findJournaledResources, findRunResources, type UserShare } from './runResources';
import { checkRunId } from '../run/naming';
import { JournalReadError, readRunJournal } from '../run/journal';

export { JournalReadError } from '../run/journal';
import type { ResourceJournal } from '../run/journal';

export { findRunResources, listLeftoverRuns } from './runResources';

export interface CleanupOutcome {
  deletedWorkspaces: number;
  deletedUsers: number;
  /** Names of what could not be deleted (to be removed by `cleanup --run-id` or by hand). */
  leftovers: string[];
}

export interface CleanupOptions {
  owner: CoderClient;
  concurrency: number;
  /** Longest time for one deletion, retries included. */
  timeoutMs: number;
  metrics?: StageMetrics;
  /** Stops starting new deletions. */
  signal?: AbortSignal;
  /** Also cuts short the deletions under way (their resources are reported unless found gone). */
  abandon?: AbortSignal;
  /** After each deletion (done or failed). */
  onProgress?(progress: CleanupProgress): void;
  log?(level: 'info' | 'warn' | 'error', message: string): void;
  /**
   * The run's id: afterwards, also delete what the deployment holds of this run but `created`
   * does not (a create that failed on our side after it succeeded on the deployment's).
   */
  runId?: string;
  /** With runId in a sharded run: only this shard's share of the run's users is swept. */
  share?: UserShare;
  /** Each resource this call deleted, or found already gone (the run's journal records both). */
  onDeleted?(kind: 'user' | 'workspace', id: string, name: string, how: 'deleted' | 'gone'): void;
}

export interface CleanupProgress {
  done: number;
  total: number;
  failed: number;
}

/** The end of a run: what it needs to apply the plan's cleanup strategy. */
export interface RunCleanupContext {
  plan: Plan;
  runId: string;
  owner: CoderClient;
  created: CreatedResources;
  /** The run failed, broke or was aborted (for the on-success / on-failure strategies). */
  failing: boolean;
  metrics: StageMetrics;
  /** Cuts cleanup short (no new deletions, no more waiting). */
  cleanupSignal?: AbortSignal;
  share?: UserShare;
  /** The run's journal: each deletion is recorded in it. */
  journal?: ResourceJournal;
  /** Deletions are about to start. */
  onStart(): void;
  log(level: 'info' | 'warn' | 'error', message: string, code?: RunEventCode): void;
}

/** Applies the plan's cleanup strategy to what the run created; also after a failure or an abort. */
export async function cleanUpAfterRun(context: RunCleanupContext): Promise<CleanupOutcome> {
  const { plan, runId, created, metrics, failing } = context;
  const strategy = plan.cleanup.strategy;
  const wanted = strategy === 'always' || (strategy === 'on-success' && !failing) || (strategy === 'on-failure' && failing);
  const empty = { deletedWorkspaces: 0, deletedUsers: 0, leftovers: [] as string[] };
  if (created.users.size === 0 && created.workspaces.size === 0) {
    metrics.state = 'skipped';
    return empty;
  }
  if (!wanted) {
    metrics.state = 'skipped';
    const kept = [...created.workspaces.values()].map((n) => `workspace ${n}`).concat([...created.users.values()].map((n) => `user ${n}`));
    context.log('info', `cleanup strategy "${strategy}": keeping ${kept.length} resources of run ${runId}`, 'resources-kept');
    return { ...empty, leftovers: kept };
  }
  context.onStart();
  metrics.state = 'running';
  metrics.startedAt = Date.now();
  context.log('info', `deleting ${created.workspaces.size} workspaces, then ${created.users.size} users`);
  const outcome = await deleteResources(created, {
    owner: context.owner,
    concurrency: plan.concurrency.cleanup,
    timeoutMs: plan.timeouts.cleanupSeconds * 1000,
    metrics,
    signal: context.cleanupSignal,
    abandon: context.cleanupSignal,
    runId,
    share: context.share,
    log: (level, message) => context.log(level, message),
    // Best effort: a deletion the journal misses is one `cleanup --run-id` finds gone.
    onDeleted: (kind, id, name) => void context.journal?.append({ type: 'deleted', kind, id, name }).catch(() => undefined),
  });
  metrics.state = 'done';
  metrics.endedAt = Date.now();
  if (outcome.leftovers.length > 0)
    context.log('warn', `${outcome.leftovers.length} resources of run ${runId} left behind`, 'resources-left');
  return outcome;
}

const ACTIVE_JOB = new Set(['pending', 'running', 'canceling']);
const gone = (error: unknown) => error instanceof CoderApiError && (error.status === 404 || error.status === 410);

export async function deleteResources(created: CreatedResources, options: CleanupOptions): Promise<CleanupOutcome> {
  const { owner, metrics } = options;
  const outcome: CleanupOutcome = { deletedWorkspaces: 0, deletedUsers: 0, leftovers: [] };
  const progress: CleanupProgress = { done: 0, total: created.workspaces.size + created.users.size, failed: 0 };
  if (metrics) metrics.progress = progress;
  const failedWorkspaces = new Map<string, string>();
  const failedUsers = new Map<string, string>();
  const fail = (kind: string, name: string, error: unknown) => {
    progress.failed++;
    metrics?.countError(kind);
    options.log?.('warn', `could not delete ${name}: ${(error as Error).message}`);
  };
  const retryLog = (name: string) => (error: unknown, attempt: number) =>
    options.log?.('info', `deleting ${name}: ${(error as Error).message}; retrying (attempt ${attempt + 1})`);
  const deadline = () => {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    if (!options.abandon) return timeout;
    // AbortSignal.any holds its sources weakly (nodejs/node#57736): a timeout nothing else references can be
    // collected and never fire, and the deletion retries forever. The combined signal keeps it.
    return Object.assign(AbortSignal.any([options.abandon, timeout]), { timeout });
  };
  const stop = options.abandon && options.signal ? AbortSignal.any([options.signal, options.abandon]) : (options.signal ?? options.abandon);
  const attempted = new Set<string>();

  await runPool(
    [...created.workspaces],
    options.concurrency,
    async ([id, name]) => {
      attempted.add(id);
      try {
        const deleted = await deleteWorkspace(owner, id, deadline(), options.timeoutMs, retryLog(`workspace ${name}`));
        if (deleted) outcome.deletedWorkspaces++;
        options.onDeleted?.('workspace', id, name, deleted ? 'deleted' : 'gone');
        progress.done++;
      } catch (error) {
        failedWorkspaces.set(id, name);
        fail('delete_workspace', `workspace ${name}`, error);
      }
      options.onProgress?.(progress);
    },
    stop,
  );
  await runPool(
    [...created.users],
    options.concurrency,
    async ([id, username]) => {
      attempted.add(id);
      const signal = deadline();
      try {
        // coderd refuses (417) to delete a user who still owns workspaces: ask the deployment.
        const owned = await withRetries(
          () => owner.listWorkspaces({ q: `owner:${username}`, limit: 10 }),
          signal,
          retryLog(`user ${username}`),
        );
        if (owned.workspaces.length > 0) {
          throw new Error(`it still owns workspace(s) ${owned.workspaces.map((w) => w.name).join(', ')}, so it was kept`);
        }
        await withRetries(() => owner.deleteUser(id), signal, retryLog(`user ${username}`));
        outcome.deletedUsers++;
        options.onDeleted?.('user', id, username, 'deleted');
        progress.done++;
      } catch (error) {
        if (gone(error)) {
          options.onDeleted?.('user', id, username, 'gone');
          progress.done++;
        } else {
          failedUsers.set(id, username);
          fail('delete_user', `user ${username}`, error);
        }
      }
      options.onProgress?.(progress);
    },
    stop,
  );
  const skippedWorkspaces = [...created.workspaces].filter(([id]) => !attempted.has(id));
  const skippedUsers = [...created.users].filter(([id]) => !attempted.has(id));
  const skipped = [...skippedWorkspaces.map(([, name]) => `workspace ${name}`), ...skippedUsers.map(([, name]) => `user ${name}`)];
  if (skipped.length) options.log?.('warn', `cleanup stopped before deleting ${skipped.length} resource(s): ${skipped.join(', ')}`);

  // What failed may still have gone (a delete build that finished after we gave up on it).
  const stillThere = await confirmLeftovers(owner, [...failedWorkspaces], [...failedUsers]);
  outcome.deletedWorkspaces += failedWorkspaces.size - stillThere.workspaces.length;
  outcome.deletedUsers += failedUsers.size - stillThere.users.length;
  outcome.leftovers.push(
    ...stillThere.workspaces.map((name) => `workspace ${name}`),
    ...skippedWorkspaces.map(([, name]) => `workspace ${name}`),
    ...stillThere.users.map((name) => `user ${name}`),
    ...skippedUsers.map(([, name]) => `user ${name}`),
  );
  if (options.runId && !stop?.aborted) await sweepStrays(created, options.runId, outcome, options);
  return outcome;
}

async function sweepStrays(created: CreatedResources, runId: string, outcome: CleanupOutcome, options: CleanupOptions): Promise<void> {
  try {
    const { resources } = await withRetries(
      () => findRunResources(options.owner, runId, options.share),
      AbortSignal.timeout(options.timeoutMs),
    );
    const strays: CreatedResources = {
      users: new Map([...resources.users].filter(([id]) => !created.users.has(id))),
      workspaces: new Map([...resources.workspaces].filter(([id]) => !created.workspaces.has(id))),
    };
    if (strays.users.size + strays.workspaces.size === 0) return;
    options.log?.(
      'warn',
      `the deployment holds ${strays.workspaces.size} workspace(s) and ${strays.users.size} user(s) of this run the runner had not recorded; deleting them too`,
    );
    const more = await deleteResources(strays, { ...options, runId: undefined, metrics: undefined });
    outcome.deletedWorkspaces += more.deletedWorkspaces;
    outcome.deletedUsers += more.deletedUsers;
    outcome.leftovers.push(...more.leftovers);
  } catch (error) {
    options.log?.('warn', `could not check the deployment for more of this run's resources: ${(error as Error).message}`);
  }
}

/**
 * Which of these the deployment still holds (one quick read each; a read that fails counts
 * as still there, since nothing confirmed it gone).
 */
async function confirmLeftovers(
  owner: CoderClient,
  workspaces: Array<[string, string]>,
  users: Array<[string, string]>,
): Promise<{ workspaces: string[]; users: string[] }> {
  const signal = AbortSignal.timeout(10_000);
  const present = async (read: () => Promise<unknown>) =>
    read().then(
      () => true,
      (error: unknown) => !gone(error),
    );
  const workspaceLeft = await Promise.all(
    workspaces.map(async ([id]) =>
      present(async () => {
        const workspace = await owner.getWorkspace(id, { signal });
        const latest = workspace.latest_build;
        if (latest.transition === 'delete' && latest.job.status === 'succeeded') throw new CoderApiError(410, 'GET', '', 'deleted');
      }),
    ),
  );
  const userLeft = await Promise.all(users.map(async ([id]) => present(() => owner.getUser(id))));
  return {
    workspaces: workspaces.filter((_, index) => workspaceLeft[index]).map(([, name]) => name),
    users: users.filter((_, index) => userLeft[index]).map(([, name]) => name),
  };
}

/** Resolves true when this call deleted it, false when it was already gone. */
export async function deleteWorkspace(
  owner: CoderClient,
  id: string,
  signal: AbortSignal,
  timeoutMs: number,
  onRetry: (error: unknown, attempt: number) => void,
): Promise<boolean> {
  try {
    return await withRetries(() => deleteWorkspaceOnce(owner, id, signal), signal, onRetry);
  } catch (error) {
    if (gone(error)) return false;
    if (signal.aborted)
      throw new Error(
        isTransient(error)
          ? `${(error as Error).message} (gave up within the ${Math.round(timeoutMs / 1000)} s limit)`
          : `deletion did not finish within ${Math.round(timeoutMs / 1000)} s`,
      );
    throw error;
  }
}

/** One pass, from what the deployment shows now: safe to repeat after any failure. */
async function deleteWorkspaceOnce(owner: CoderClient, id: string, signal: AbortSignal): Promise<boolean> {
  const workspace = await owner.getWorkspace(id, { signal });
  const latest = workspace.latest_build;
  if (latest.transition === 'delete' && latest.job.status === 'succeeded') return false;
  if (ACTIVE_JOB.has(latest.job.status)) {
    if (latest.transition !== 'delete') await owner.cancelBuild(latest.id).catch(() => undefined);
    await owner.waitForBuild(latest.id, { signal }).catch((error: unknown) => {
      if (isTransient(error) || signal.aborted) throw error;
    });
    if (latest.transition === 'delete') {
      const after = await owner.getBuild(latest.id, signal);
      if (after.job.status === 'succeeded') return true;
    }
  }
  const build = await owner.createBuild(id, { transition: 'delete' });
  await owner.waitForBuild(build.id, { signal });
  return true;
}

export interface CleanupRunOptions {
  connection: DeploymentConnection;
  runId: string;
  /**
   * The run's directory (`<out>/<runId>`): when it holds the run's journal, exactly what the
   * journal names is deleted; without one, the run's resources are found by name.
   */
  runDir?: string;
  /** Only this shard's share of the run's users (e.g. a lost shard's). */
  share?: UserShare;
  concurrency?: number;
  timeoutMs?: number;
  /** Stops starting new deletions; those under way finish or time out; the rest are reported as leftovers. */
  signal?: AbortSignal;
  /** Also cuts short the deletions under way. */
  abandon?: AbortSignal;
  onProgress?(progress: CleanupProgress): void;
  log?(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface CleanupRunOutcome extends CleanupOutcome {
  found: { users: number; workspaces: number };
  /** Resources named like the run's that failed the ownership checks (or are not in its journal): never touched. */
  refused: string[];
  /** What the journal names but the deployment no longer has (deleted meanwhile, or never created): not an error. */
  gone: string[];
  /** Where the list of resources came from: the run's journal, or names on the deployment. */
  source: 'journal' | 'names';
}

/** Deletes every user and workspace of `runId` still on the deployment (for a killed run). */
export async function cleanupRun(options: CleanupRunOptions): Promise<CleanupRunOutcome> {
  checkRunId(options.runId);
  // Read before any request: a journal of another deployment is refused without touching either.
  const journal = options.runDir ? readRunJournal(options.runDir, options.runId) : undefined;
  if (journal && !sameDeployment(journal.url, options.connection.url)) {
    throw new JournalReadError(
      `the journal of run ${options.runId} (${journal.files.join(', ')}) records resources on ${journal.url}, not on ${options.connection.url}: pass --url ${journal.url}`,
    );
  }
  // Without the rate-limit bypass header, which coderd refuses (428) for non-owners: the
  // owner check then says what is wrong in words.
  const probe = new CoderClient(options.connection);
  await probe.requireOwner().finally(() => probe.close());
  const owner = new CoderClient(options.connection, { bypassRateLimit: true });
  try {
    const { resources, refused, gone } = journal
      ? await findJournaledResources(owner, journal, options.share)
      : { ...(await findRunResources(owner, options.runId, options.share)), gone: [] as string[] };
    for (const problem of journal?.problems ?? []) options.log?.('warn', `journal: ${problem}`);
    options.log?.(
      'info',
      `run ${options.runId}: ${journal ? `its journal names` : 'found by name'} ${resources.workspaces.size} workspace(s) and ${resources.users.size} user(s) to delete` +
        (gone.length ? `; ${gone.length} already gone` : ''),
    );
    for (const reason of refused) options.log?.('warn', `not touching ${reason}`);
    const outcome = await deleteResources(resources, {
      owner,
      concurrency: options.concurrency ?? 10,
      timeoutMs: options.timeoutMs ?? 600_000,
      signal: options.signal,
      abandon: options.abandon,
      onProgress: options.onProgress,
      log: options.log,
      onDeleted: (kind, _id, name, how) => {
        if (how === 'gone') gone.push(`${kind} ${name}`);
      },
    });
    return {
      ...outcome,
      found: { users: resources.users.size, workspaces: resources.workspaces.size },
      refused,
      gone,
      source: journal ? 'journal' : 'names',
    };
  } finally {
    owner.close();
  }
}

function sameDeployment(a: string, b: string): boolean {
  const normal = (url: string) => {
    try {
      const parsed = new URL(url);
      return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`.toLowerCase();
    } catch {
      return url.replace(/\/+$/, '').toLowerCase();
    }
  };
  return normal(a) === normal(b);
}
