// `cleanup --run-id` with the run's journal: exactly what the journal names is deleted, also
// what a killed runner sent but never heard back about; look-alikes are left alone; what is
// already gone is reported as gone.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CoderClient } from '../../../../src/coder/client';
import { cleanupRun } from '../../../../src/engine/cleanup/cleanup';
import { JOURNAL_FILE, JournalReadError, readRunJournal } from '../../../../src/engine/run/journal';
import { workspaceName } from '../../../../src/engine/run/naming';
import type { SimDeployment } from '../../../../src/sim';
import { keptRun, leftovers, useSimAndOutDir } from '../../../support/simRun';

/** A user named, mailed and titled exactly as a run's user (a look-alike no name check can tell apart). */
async function runLikeUser(sim: SimDeployment, runId: string, random: string, index: number) {
  const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
  try {
    return await owner.createUser({
      email: `${random}-${runId}@scaletest.local`,
      username: `scaletest-${random}-${runId}`,
      name: `Scale test user ${index}`,
      password: 'Look-alike-passw0rd!',
      login_type: 'password',
      organization_ids: [sim.organizationId],
    });
  } finally {
    owner.close();
  }
}

describe('engine cleanupRun from the run journal', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();

  it('deletes what the journal names, leaves a look-alike the journal does not name, and a second pass finds everything gone', async () => {
    const { runId, connection } = await keptRun(env, 2);
    const runDir = path.join(env.out, runId);
    const journal = readRunJournal(runDir, runId)!;
    assert.ok(journal, 'the run wrote its journal into its directory');
    assert.deepStrictEqual(journal.entries.map((entry) => [entry.kind, entry.state]).sort(), [
      ['user', 'created'],
      ['user', 'created'],
      ['workspace', 'created'],
      ['workspace', 'created'],
    ]);
    const lookAlike = await runLikeUser(env.sim, runId, 'zz9lookz', 7);

    const warnings: string[] = [];
    const outcome = await cleanupRun({ connection, runId, runDir, log: (level, line) => void (level === 'warn' && warnings.push(line)) });
    assert.strictEqual(outcome.source, 'journal');
    assert.deepStrictEqual([outcome.deletedWorkspaces, outcome.deletedUsers, outcome.leftovers, outcome.gone], [2, 2, [], []]);
    assert.deepStrictEqual(outcome.refused, [`user ${lookAlike.username}: named like the run's, but not in its journal`]);
    assert.ok(warnings.some((line) => line.includes(`not touching user ${lookAlike.username}`)));
    assert.deepStrictEqual(await leftovers(env.sim), { users: [lookAlike.username], workspaces: [] });

    const again = await cleanupRun({ connection, runId, runDir });
    assert.deepStrictEqual([again.deletedWorkspaces, again.deletedUsers, again.leftovers], [0, 0, []]);
    assert.strictEqual(again.gone.length, 4, 'what the journal names and the deployment no longer has is gone, not an error');
  });

  it('finds by name what a killed runner sent but never heard back about, and reports what was never created', async () => {
    const runId = 'stkilled01';
    const runDir = path.join(env.out, runId);
    const sent = await runLikeUser(env.sim, runId, 'aa11bb22', 0);
    const owner = new CoderClient({ url: env.sim.url, token: env.sim.ownerToken });
    const workspace = await owner.createWorkspace(env.sim.organizationId, sent.username, {
      name: workspaceName(runId, 0),
      template_id: env.sim.templateId,
      rich_parameter_values: [],
    });
    owner.close();
    const at = new Date().toISOString();
    const records = [
      { v: 1, type: 'run', runId, url: env.sim.url, pid: 1, at },
      { type: 'intent', kind: 'user', key: 'user:0', username: sent.username, email: sent.email, at },
      { type: 'intent', kind: 'workspace', key: 'workspace:0', owner: sent.username, ownerId: sent.id, name: workspace.name, at },
      {
        type: 'intent',
        kind: 'user',
        key: 'user:1',
        username: `scaletest-cc33dd44-${runId}`,
        email: `cc33dd44-${runId}@scaletest.local`,
        at,
      },
    ];
    fs.mkdirSync(runDir, { recursive: true });
    fs.writeFileSync(path.join(runDir, JOURNAL_FILE), records.map((record) => `${JSON.stringify(record)}\n`).join(''));

    const outcome = await cleanupRun({ connection: { url: env.sim.url, token: env.sim.ownerToken }, runId, runDir });
    assert.deepStrictEqual([outcome.deletedWorkspaces, outcome.deletedUsers, outcome.leftovers], [1, 1, []]);
    assert.deepStrictEqual(outcome.gone, [`user scaletest-cc33dd44-${runId} (never created)`]);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });

  it('refuses a journal written against another deployment, before deleting anything', async () => {
    const { runId, connection } = await keptRun(env, 1);
    const runDir = path.join(env.out, runId);
    await assert.rejects(
      cleanupRun({ connection: { ...connection, url: connection.url.replace('127.0.0.1', 'localhost') }, runId, runDir }),
      (error: Error) => error instanceof JournalReadError && error.message.includes(`pass --url ${connection.url}`),
    );
    assert.deepStrictEqual((await leftovers(env.sim)).workspaces.length, 1);
  });
});
