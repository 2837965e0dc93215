// The crash-proof journal: SIGKILL (which no handler sees) lands at a random moment of prepare,
// 20 times; each time `cleanup --run-id` must leave nothing behind, touch no look-alike, and the
// journal must name everything the deployment held after the kill.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CoderClient } from '../../src/coder/client';
import { readRunJournal } from '../../src/engine/run/journal';
import { seededRandom } from '../../src/engine/common/random';
import { startSimDeployment, type SimDeployment } from '../../src/sim';
import { faultPlan, leftOnDeployment, record, runCli, scrub, tempDir, writePlan } from './harness';

const TRIES = 20;
/** Kill moments are spread over this window after prepare starts (6 users, 2 at a time, take ~2 s here). */
const PREPARE_WINDOW_MS = 2000;
/**
 * Creates take this long before the simulator acts on them, so that kills land between a
 * create's journal record and coderd's answer too (with instant creates they hardly ever do).
 */
const CREATE_LATENCY = { ms: 120, jitterMs: 60 };

describe('fault matrix: SIGKILL during prepare, then cleanup --run-id from the journal', function () {
  this.timeout(TRIES * 30_000);
  let sim: SimDeployment;
  let out: string;
  before(async () => (sim = await startSimDeployment({ buildDurationMs: 300, agentConnectDelayMs: 80, directSsh: true })));
  after(async () => sim.close());
  beforeEach(() => (out = tempDir()));
  afterEach(async () => {
    sim.setFaults({});
    await scrub(sim);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it(`${TRIES} kills at random moments: 0 left every time, look-alikes untouched, nothing outside the journal`, async () => {
    // Stratified: try i dies somewhere in the i-th 1/TRIES of the window, so the tries cover it.
    const seed = Number(process.env.FAULTS_SEED ?? Date.now() % 100_000);
    const random = seededRandom(seed);
    const moments: string[] = [];
    let deletedTotal = 0;
    let killedMidCreate = 0;
    for (let attempt = 0; attempt < TRIES; attempt++) {
      const delayMs = Math.round(((attempt + random()) * PREPARE_WINDOW_MS) / TRIES);
      const plan = faultPlan(sim, { users: 6, mutate: (p) => (p.concurrency.prepare = 2) });
      sim.setFaults({ latency: { users: CREATE_LATENCY, workspaces: CREATE_LATENCY } });
      const run = runCli(['run', writePlan(out, plan), '--out', out], sim);
      await run.waitFor(/\[prepare\] creating 6 users/);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      run.child.kill('SIGKILL');
      const killed = await run.done;
      sim.setFaults({});
      const context = `try ${attempt + 1}/${TRIES} (seed ${seed}, kill ${delayMs} ms into prepare)`;
      assert.strictEqual(killed.signal, 'SIGKILL', context);
      const runId = killed.runId!;

      // Everything the deployment holds of the run is in the journal (created or sent).
      const held = await leftOnDeployment(sim);
      const journal = readRunJournal(path.join(out, runId), runId);
      assert.ok(journal, `${context}: the run's journal exists`);
      const named = new Set(journal.entries.map((entry) => `${entry.kind} ${entry.name}`));
      for (const resource of held) assert.ok(named.has(resource), `${context}: ${resource} is on the deployment but not in the journal`);
      const inFlight = journal.entries.filter((entry) => entry.state === 'pending').length;
      if (inFlight > 0) killedMidCreate++;
      moments.push(`${delayMs} ms: ${held.length} held, ${inFlight} sent without an answer`);

      const lookAlike = await createLookAlike(sim, runId);
      const cleanup = await runCli(['cleanup', '--run-id', runId, '--out', out], sim).done;
      assert.strictEqual(cleanup.code, 0, `${context}: ${cleanup.stdout}${cleanup.stderr}`);
      assert.match(cleanup.stdout, /from the run's journal/, context);
      assert.match(cleanup.stderr, new RegExp(`not touching user ${lookAlike}: named like the run's, but not in its journal`), context);
      assert.deepStrictEqual(await leftOnDeployment(sim, [`user ${lookAlike}`]), [], `${context}: nothing of the run is left`);
      assert.deepStrictEqual(await leftOnDeployment(sim), [`user ${lookAlike}`], `${context}: the look-alike survives`);
      deletedTotal += held.length;
      await scrub(sim);
    }
    if (process.env.FAULTS_VERBOSE) console.log(moments.join('\n'));
    assert.ok(deletedTotal > 0, `the kills left resources to clean up at least once (${moments.join('; ')})`);
    record({
      fault: `SIGKILL during prepare at a random moment, then cleanup --run-id (journal, with a look-alike), ${TRIES} tries`,
      exitCode: 0,
      verdict: 'n/a (killed)',
      reported: `cleanup from the journal each time; ${deletedTotal} resources held after the kills in all, every one in the journal (${killedMidCreate} kills between a create's intent and its answer); look-alikes named and not touched`,
      leftBehind: 0,
    });
  });
});

/** A user no name check can tell from the run's (same naming, email and display name), created after the kill. */
async function createLookAlike(sim: SimDeployment, runId: string): Promise<string> {
  const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
  try {
    const user = await owner.createUser({
      email: `zz99look-${runId}@scaletest.local`,
      username: `scaletest-zz99look-${runId}`,
      name: 'Scale test user 99',
      password: 'Look-alike-passw0rd!',
      login_type: 'password',
      organization_ids: [sim.organizationId],
    });
    return user.username;
  } finally {
    owner.close();
  }
}
