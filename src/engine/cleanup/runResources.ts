// Finding a run's resources on the deployment after the runner is gone (`cleanup --run-id`).
// A name alone proves nothing — anyone can create a user or workspace whose name carries a run
// id — so each candidate must pass every check of what this tool itself creates:
// - a user: username `scaletest-<r>-<runId>`, email `<r>-<runId>@scaletest.local` with the same
//   8 random characters <r>, display name "Scale test user <n>", password login, no roles;
// - a workspace: name `scaletest-<runId>-<n>` AND owned by a user that passed the checks above
//   (the run's workspaces are created by its users, never by the owner for someone else).
// Anything named like the run's that fails a check is refused and reported, never touched.
// When the run left a journal (run/journal.ts), that journal, not the names, says what to delete.
import type { CoderClient } from '../../coder/client';
import { CoderClient as Client } from '../../coder/client';
import type { DeploymentConnection } from '../../coder/connection';
import type * as S from '../../coder/schemas';
import { checkRunId, isRunWorkspace, runIdOfUser } from '../run/naming';
import { CoderApiError } from '../../coder/errors';
import type { CreatedResources } from '../prepare/prepare';
import type { RunJournal } from '../run/journal';

const PAGE = 100;

/** Why `user` is not one of `runId`'s scale-test users, or undefined when it is. */
export function userCheckFailure(user: S.User, runId: string): string | undefined {
  const match = /^scaletest-([a-z0-9]{8})-([a-z][a-z0-9]{3,11})$/.exec(user.username);
  if (!match || match[2] !== runId) return "its username does not follow the run's naming";
  if (user.email !== `${match[1]}-${runId}@scaletest.local`) return `its email ${user.email} is not the one this run gives its users`;
  if (!/^Scale test user \d+$/.test(user.name ?? '')) return 'its display name is not the one this run gives its users';
  if (user.login_type && user.login_type !== 'password') return `it logs in with ${user.login_type}, not a password`;
  const roles = (user.roles ?? []).map((role) => role.name).filter((name) => name !== 'member' && name !== 'organization-member');
  if (roles.length > 0) return `it has roles (${roles.join(', ')}) a scale-test user never gets`;
  return undefined;
}

async function listAll<T>(read: (offset: number) => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await read(offset);
    all.push(...page);
    if (page.length < PAGE) return all;
  }
}

/** A sharded run's share of the users: plan indexes i with i mod count = index. */
export interface UserShare {
  index: number;
  count: number;
}

const indexOf = (text: string | undefined, pattern: RegExp): number => Number(pattern.exec(text ?? '')?.[1] ?? NaN);
const inShare = (index: number, share: UserShare | undefined): boolean => !share || index % share.count === share.index;

/**
 * Finds what a run left behind; `refused` names look-alikes that failed a check (with why).
 * With `share`, only that shard's users (by the index in their display name) and their
 * workspaces: the other shards' are theirs to clean up, and may still be in use.
 */
export async function findRunResources(
  owner: CoderClient,
  runId: string,
  share?: UserShare,
): Promise<{ resources: CreatedResources; refused: string[] }> {
  checkRunId(runId);
  const resources: CreatedResources = { users: new Map(), workspaces: new Map() };
  const refused: string[] = [];
  const users = await listAll(async (offset) => (await owner.listUsers({ q: runId, offset, limit: PAGE })).users);
  const runUsers = new Map<string, S.User>();
  /** The run's users of the other shards: their workspaces are theirs to clean up. */
  const otherShares = new Set<string>();
  for (const user of users) {
    if (runIdOfUser(user.username) !== runId && !user.username.includes(runId)) continue;
    const failure = userCheckFailure(user, runId);
    if (failure) {
      // A name that merely contains the id (another run's, say) is not worth a warning.
      if (runIdOfUser(user.username) === runId) refused.push(`user ${user.username}: ${failure}`);
      continue;
    }
    if (!inShare(indexOf(user.name, /^Scale test user (\d+)$/), share)) {
      otherShares.add(user.id);
      continue;
    }
    runUsers.set(user.id, user);
    resources.users.set(user.id, user.username);
  }
  const workspaces = await listAll(
    async (offset) => (await owner.listWorkspaces({ q: `name:"${runId}"`, offset, limit: PAGE })).workspaces,
  );
  for (const workspace of workspaces) {
    // A workspace is in its owner's share: a stage's extra workspaces are numbered past prepare's
    // (users × k + index), so the number in the name does not tell the shard.
    if (!isRunWorkspace(workspace.name, runId) || otherShares.has(workspace.owner_id)) continue;
    if (!runUsers.has(workspace.owner_id)) {
      refused.push(`workspace ${workspace.owner_name}/${workspace.name}: its owner ${workspace.owner_name} is not one of the run's users`);
      continue;
    }
    resources.workspaces.set(workspace.id, workspace.name);
  }
  return { resources, refused };
}

/** Run ids that still have scale-test users on the deployment, with how many (read-only). */
export async function listLeftoverRuns(connection: DeploymentConnection): Promise<Map<string, number>> {
  const owner = new Client(connection);
  const runs = new Map<string, number>();
  try {
    await owner.requireOwner();
    const users = await listAll(async (offset) => (await owner.listUsers({ q: 'scaletest-', offset, limit: PAGE })).users);
    for (const user of users) {
      const runId = runIdOfUser(user.username);
      if (runId && !userCheckFailure(user, runId)) runs.set(runId, (runs.get(runId) ?? 0) + 1);
    }
    return runs;
  } finally {
    owner.close();
  }
}

/**
 * What a run's journal says to delete (`cleanup --run-id` when the run's directory has one):
 * entries whose create coderd answered are taken by id; entries the runner was killed between
 * sending and hearing the answer for are looked up by name — a 404 means coderd never created
 * them. Resources named like the run's that the journal does not name are listed in `refused`
 * and never touched. `gone` lists what the journal names that the deployment no longer has.
 */
export async function findJournaledResources(
  owner: CoderClient,
  journal: RunJournal,
  share?: UserShare,
): Promise<{ resources: CreatedResources; refused: string[]; gone: string[] }> {
  const resources: CreatedResources = { users: new Map(), workspaces: new Map() };
  const refused: string[] = [];
  const gone: string[] = [];
  const entries = journal.entries.filter((entry) => inShare(indexOf(entry.key, /:(\d+)$/), share));
  for (const entry of entries) {
    if (entry.state === 'deleted' || entry.state === 'refused') continue;
    const into = entry.kind === 'user' ? resources.users : resources.workspaces;
    if (entry.state === 'created' && entry.id) {
      into.set(entry.id, entry.name);
      continue;
    }
    try {
      if (entry.kind === 'user') {
        const user = await owner.getUser(entry.name);
        const failure = userCheckFailure(user, journal.runId);
        if (failure) refused.push(`user ${user.username}: ${failure}`);
        else into.set(user.id, user.username);
      } else {
        const workspace = await owner.workspaceByOwnerAndName(entry.owner ?? '', entry.name);
        into.set(workspace.id, workspace.name);
      }
    } catch (error) {
      if (!(error instanceof CoderApiError) || (error.status !== 404 && error.status !== 410)) throw error;
      gone.push(`${entry.kind} ${entry.owner ? `${entry.owner}/` : ''}${entry.name} (never created)`);
    }
  }
  // Read-only: what the deployment holds under the run's names that the journal does not name.
  const named = await findRunResources(owner, journal.runId, share);
  const journaled = new Set(journal.entries.map((entry) => `${entry.kind} ${entry.name}`));
  for (const [kind, found, taken] of [
    ['user', named.resources.users, resources.users],
    ['workspace', named.resources.workspaces, resources.workspaces],
  ] as const) {
    for (const [id, name] of found) {
      if (!taken.has(id) && !journaled.has(`${kind} ${name}`))
        refused.push(`${kind} ${name}: named like the run's, but not in its journal`);
    }
  }
  refused.push(...named.refused);
  return { resources, refused, gone };
}
