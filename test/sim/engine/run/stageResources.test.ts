// What a stage creates or changes through context.resources is the run's: a stage registered at
// run time sets autostart schedules it never clears and creates a workspace it never deletes.
// The run clears the schedules once its timeline is over, keeps the workspace in its list of
// what it created and in its journal (naming the stage), and `cleanup --run-id` deletes it.
import * as assert from 'assert';
import * as path from 'path';
import { Type, type Static } from '@sinclair/typebox';
import { CoderClient } from '../../../../src/coder/client';
import { cleanupRun } from '../../../../src/engine/cleanup/cleanup';
import { readRunJournal } from '../../../../src/engine/run/journal';
import { startRun } from '../../../../src/engine/run/run';
import { defineTrafficStage, type StageRunner } from '../../../../src/engine/stages/definition';
import { registerStage } from '../../../../src/engine/stages/registry';
import { leftovers, smallPlan, useSimAndOutDir } from '../../../support/simRun';

const settings = Type.Object({ enabled: Type.Boolean({ default: false }) }, { additionalProperties: false, default: {} });
const problems: string[] = [];

const leaverRunner: StageRunner<Static<typeof settings>> = {
  async run({ users, resources }) {
    for (const user of users)
      await resources.setAutostart(user, { id: user.workspaceId, name: user.workspaceName }, 'CRON_TZ=UTC 0 9 * * 1-5');
    const [first] = users;
    const own = await first!.client.getWorkspace(first!.workspaceId);
    const extra = await resources.createWorkspace(first!, own.organization_id, { template_id: own.template_id });
    await first!.client.waitForBuild(extra.latest_build.id);
    // A stage deletes only what it created itself.
    await resources.deleteWorkspace(first!.workspaceId).then(
      () => problems.push("deleted prepare's workspace"),
      (error: Error) => void (/deletes only workspaces it created/.test(error.message) || problems.push(error.message)),
    );
  },
};

const leaverStage = defineTrafficStage({
  id: 'leaver',
  title: 'Leaver',
  color: 'purple',
  defaultWindow: [0, 1],
  metrics: ['latency'],
  connectionNoun: 'workspaces',
  prepares: 'workspaces',
  settings,
  load: async () => leaverRunner,
});

describe("a stage's own resources are the run's", function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();
  let unregister: () => void;
  beforeEach(() => (unregister = registerStage(leaverStage)));
  afterEach(() => unregister());

  /** A run of the leaver stage alone that keeps what it created (cleanup "never"). */
  const leaverRun = (users: number) => {
    const plan = smallPlan(env.sim, { users, only: [] });
    (plan.traffic as unknown as Record<string, unknown>).leaver = { enabled: true };
    (plan.timeline as unknown as Record<string, unknown>).leaver = [0, 1];
    plan.thresholds = [];
    plan.cleanup.strategy = 'never';
    return startRun({ plan, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: env.out }).done;
  };

  it('clears the schedules a stage left set, keeps its workspace in the run and its journal, and cleanup --run-id deletes it', async () => {
    const connection = { url: env.sim.url, token: env.sim.ownerToken };
    const result = await leaverRun(2);
    assert.deepStrictEqual(problems, []);
    const runId = result.snapshot.runId;
    // Kept by the run, the stage's workspace with prepare's: 2 users, 3 workspaces.
    assert.strictEqual(result.cleanup.leftovers.length, 5, result.cleanup.leftovers.join(', '));
    const owner = new CoderClient(connection);
    try {
      const workspaces = (await owner.listWorkspaces({ limit: 100 })).workspaces;
      assert.deepStrictEqual(
        workspaces.map((w) => w.name).sort(),
        [0, 1, 2].map((n) => `scaletest-${runId}-${n}`),
      );
      assert.deepStrictEqual(
        workspaces.map((w) => w.autostart_schedule ?? ''),
        ['', '', ''],
        'the run cleared the schedules the stage left set',
      );
    } finally {
      owner.close();
    }
    const runDir = path.join(env.out, runId);
    const journal = readRunJournal(runDir, runId)!;
    assert.deepStrictEqual(
      journal.entries.filter((entry) => entry.stage).map((entry) => [entry.stage, entry.key, entry.name, entry.state]),
      [['leaver', 'workspace:1:0', `scaletest-${runId}-2`, 'created']],
    );
    assert.ok(
      journal.entries.every((entry) => entry.autostart === undefined),
      'the journal knows no schedule is left',
    );
    const outcome = await cleanupRun({ connection, runId, runDir });
    assert.deepStrictEqual([outcome.source, outcome.deletedWorkspaces, outcome.deletedUsers, outcome.leftovers], ['journal', 3, 2, []]);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });

  it("cleanup --run-id --shard without a journal takes a stage's workspace with its owner's shard", async () => {
    const connection = { url: env.sim.url, token: env.sim.ownerToken };
    const { runId } = (await leaverRun(3)).snapshot;
    // User 0's extra workspace is number 3 (users × 1 + 0): by its number shard 1's, by its owner shard 0's.
    const first = await cleanupRun({ connection, runId, share: { index: 0, count: 2 } });
    assert.deepStrictEqual([first.source, first.deletedUsers, first.deletedWorkspaces, first.refused], ['names', 2, 3, []]);
    assert.deepStrictEqual((await leftovers(env.sim)).workspaces, [`scaletest-${runId}-1`]);
    const second = await cleanupRun({ connection, runId, share: { index: 1, count: 2 } });
    assert.deepStrictEqual([second.deletedUsers, second.deletedWorkspaces, second.refused], [1, 1, []]);
    assert.deepStrictEqual(await leftovers(env.sim), { users: [], workspaces: [] });
  });
});
