import * as assert from 'assert';
import { cleanupRun, type CleanupProgress } from '../../../../src/engine/cleanup/cleanup';
import { keptRun, leftovers, useSimAndOutDir } from '../../../support/simRun';

describe('engine cleanupRun against the simulated deployment', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();

  it('an abort stops new deletions, lets those under way finish and reports the rest as leftovers', async () => {
    const { runId, connection } = await keptRun(env, 3);

    const controller = new AbortController();
    const progress: CleanupProgress[] = [];
    const warnings: string[] = [];
    const stopped = await cleanupRun({
      connection,
      runId,
      concurrency: 2,
      signal: controller.signal,
      // Abort as the first deletion ends: the second is under way, the third not started.
      onProgress: (p) => {
        progress.push({ ...p });
        controller.abort();
      },
      log: (level, message) => void (level === 'warn' && warnings.push(message)),
    });
    assert.strictEqual(stopped.deletedWorkspaces, 2, 'the deletion under way finished');
    assert.strictEqual(stopped.deletedUsers, 0);
    assert.deepStrictEqual(
      progress.map((p) => p.done),
      [1, 2],
    );
    assert.strictEqual(progress[0]!.total, 6);
    const left = await leftovers(env.sim);
    assert.strictEqual(left.workspaces.length, 1);
    assert.strictEqual(left.users.length, 3);
    assert.deepStrictEqual(
      [...stopped.leftovers].sort(),
      [...left.workspaces.map((n) => `workspace ${n}`), ...left.users.map((n) => `user ${n}`)].sort(),
    );
    assert.deepStrictEqual(warnings, [`cleanup stopped before deleting 4 resource(s): ${stopped.leftovers.join(', ')}`]);

    // What was reported is exactly what a later cleanup finds and deletes.
    const rest = await cleanupRun({ connection, runId });
    assert.deepStrictEqual(rest, {
      deletedWorkspaces: 1,
      deletedUsers: 3,
      leftovers: [],
      found: { users: 3, workspaces: 1 },
      refused: [],
      gone: [],
      source: 'names',
    });
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });
});
