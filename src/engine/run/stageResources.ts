// What traffic stages create or change on the deployment themselves (StageResources in
// ../stages/definition.ts), recorded the way prepare records its own resources: in the run's
// journal before the request is sent and again with coderd's id (./journal.ts), and in the
// run's list of what it created, so that the run's cleanup and `cleanup --run-id` after a
// crash find them. A workspace the stage deletes itself leaves the list and gets a `deleted`
// record: the run's cleanup does not try it again, and a workspace already gone is gone, not
// an error. Autostart schedules a stage set and did not clear are cleared once the timeline is
// over.
import type { CoderClient } from '../../coder/client';
import { CoderApiError } from '../../coder/errors';
import { deleteWorkspace } from '../cleanup/cleanup';
import type { CreatedResources, StageUser } from '../prepare/prepare';
import type { StageLog, StageResources } from '../stages/definition';
import { recordCreate, type ResourceJournal } from './journal';
import { workspaceName } from './naming';

export interface RunResourcesOptions {
  runId: string;
  /** The plan's users: a stage's extra workspaces are numbered after prepare's (`users × k + index`). */
  users: number;
  /** Deletes and clears with the owner's client, as the run's cleanup does. */
  owner: CoderClient;
  created: CreatedResources;
  journal?: ResourceJournal;
  /** Longest time for one deletion, retries included (the plan's cleanup timeout). */
  deleteTimeoutMs: number;
  log(level: 'info' | 'warn' | 'error', message: string, stageId?: string): void;
}

export class RunResources {
  /** How many extra workspaces each user (by plan index) has been given, by any stage. */
  private readonly extraWorkspaces = new Map<number, number>();
  /** Schedules a stage set and has not cleared: workspace id → its name and the stage. */
  private readonly schedules = new Map<string, { name: string; stage: string }>();

  constructor(private readonly options: RunResourcesOptions) {}

  /** The context API one stage gets. */
  forStage(stage: string): StageResources {
    const own = new Set<string>();
    const log: StageLog = (level, message) => this.options.log(level, message, stage);
    return {
      runId: this.options.runId,
      createWorkspace: async (user, organizationId, request) => {
        const workspace = await this.createWorkspace(stage, user, organizationId, request);
        own.add(workspace.id);
        return workspace;
      },
      deleteWorkspace: async (workspaceId) => {
        if (!own.has(workspaceId)) throw new Error(`the ${stage} stage deletes only workspaces it created (not ${workspaceId})`);
        return this.deleteWorkspace(workspaceId, log);
      },
      setAutostart: (user, workspace, schedule) => this.setAutostart(stage, user, workspace, schedule),
    };
  }

  private async createWorkspace(
    stage: string,
    user: StageUser,
    organizationId: string,
    request: Parameters<StageResources['createWorkspace']>[2],
  ) {
    const { runId, users, journal, created } = this.options;
    // Numbered after prepare's (index < users) and after this user's earlier extras: unique in the
    // run whatever the stage, and in a sharded run the user's plan-wide index keeps it unique too.
    const k = (this.extraWorkspaces.get(user.index) ?? 0) + 1;
    this.extraWorkspaces.set(user.index, k);
    const name = workspaceName(runId, users * k + user.index);
    const intent = {
      type: 'intent',
      kind: 'workspace',
      // The user's index last: `cleanup --run-id --shard` keeps a shard's share by it.
      key: `workspace:${k}:${user.index}`,
      owner: user.username,
      ownerId: user.userId,
      name,
      stage,
    } as const;
    const workspace = await recordCreate(journal, intent, () =>
      user.client.createWorkspace(organizationId, user.userId, { ...request, name }),
    );
    created.workspaces.set(workspace.id, workspace.name);
    return workspace;
  }

  private async deleteWorkspace(id: string, log: StageLog): Promise<boolean> {
    const { owner, created, journal, deleteTimeoutMs } = this.options;
    const name = created.workspaces.get(id) ?? id;
    const deleted = await deleteWorkspace(owner, id, AbortSignal.timeout(deleteTimeoutMs), deleteTimeoutMs, (error, attempt) =>
      log('info', `deleting workspace ${name}: ${(error as Error).message}; retrying (attempt ${attempt + 1})`),
    );
    created.workspaces.delete(id);
    this.schedules.delete(id);
    // Best effort, as the run's cleanup: a deletion the journal misses is one `cleanup --run-id` finds gone.
    await journal?.append({ type: 'deleted', kind: 'workspace', id, name }).catch(() => undefined);
    return deleted;
  }

  private async setAutostart(
    stage: string,
    user: StageUser,
    workspace: { id: string; name: string },
    schedule: string | null,
  ): Promise<void> {
    // On disk before the request: a crash after it leaves a record of the schedule.
    await this.options.journal?.append({
      type: 'changed',
      kind: 'workspace',
      id: workspace.id,
      name: workspace.name,
      stage,
      autostart: schedule,
    });
    // Counted as set before the request is sent: a lost answer may still have set it.
    if (schedule) this.schedules.set(workspace.id, { name: workspace.name, stage });
    await user.client.updateWorkspaceAutostart(workspace.id, schedule ?? '');
    if (!schedule) this.schedules.delete(workspace.id);
  }

  /**
   * Once the timeline is over (also after a failure or an abort): clears every schedule a stage
   * left set — a workspace the run keeps would otherwise start every day. A workspace already
   * gone needs nothing.
   */
  async clearLeftSchedules(): Promise<void> {
    const left = [...this.schedules];
    if (left.length === 0) return;
    this.options.log('info', `clearing ${left.length} autostart schedule(s) the stages left set`);
    await Promise.all(
      left.map(async ([id, { name, stage }]) => {
        try {
          await this.options.journal?.append({ type: 'changed', kind: 'workspace', id, name, stage, autostart: null });
          await this.options.owner.updateWorkspaceAutostart(id, '');
          this.schedules.delete(id);
        } catch (error) {
          if (error instanceof CoderApiError && (error.status === 404 || error.status === 410)) this.schedules.delete(id);
          else this.options.log('warn', `could not clear the autostart schedule of ${name}: ${(error as Error).message}`, stage);
        }
      }),
    );
  }
}

/** On a worker thread a stage runs its share of connections only: what it creates, it creates on the main thread. */
export function workerThreadResources(runId: string): StageResources {
  const refuse = () =>
    Promise.reject(new Error('a stage creates or changes resources in setUp on the main thread, not on a worker thread'));
  return { runId, createWorkspace: refuse, deleteWorkspace: refuse, setAutostart: refuse };
}
