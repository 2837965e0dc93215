// Issue 21, part 1: a local run and the same plan through `--shards 2 --local` reach the same
// verdict, reason and exit code, scenario by scenario: both decide through one function
// (engine/judge/outcome.ts), the sharded one on the merged view.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../../../src/cli/main';
import type { RunReport } from '../../../src/engine/outputs/report/report';
import type { Plan } from '../../../src/engine/plan/plan';
import type { SimDeployment } from '../../../src/sim';
import { capture } from '../../support/capture';
import { smallPlan, startTestSim, tempDir } from '../../support/simRun';

interface Scenario {
  name: string;
  plan?: (plan: Plan) => void;
  token?: string;
  /** Acts on the run once the merged (or local) NDJSON shows prepare done (on every shard). */
  whenRunning?: (sim: SimDeployment, stop: AbortController) => void;
}

const SCENARIOS: Scenario[] = [
  { name: 'pass' },
  {
    name: 'threshold fail',
    plan: (plan) => (plan.thresholds = [{ expression: 'ssh.reconnects >= 1', abortOnFail: false, abortAfterSeconds: 0 }]),
  },
  { name: 'abort', whenRunning: (_sim, stop) => stop.abort() },
  { name: 'access failure', token: 'not-a-session-token' },
  {
    name: 'cleanup leftovers',
    plan: (plan) => (plan.timeouts.cleanupSeconds = 2),
    // Traffic uses neither builds nor users: the fault hits cleanup from its first request.
    whenRunning: (sim) => sim.setFaults({ errorRates: { builds: 1, users: 1 } }),
  },
];

/** Run-dependent figures out: numbers, run ids. */
const normalised = (reason: string | undefined, runId: string) => reason?.replaceAll(runId, 'RUN').replace(/\d+(\.\d+)?/g, 'N');

describe('one outcome path: a local run and --shards 2 --local decide alike', function () {
  // Shard processes start under tsx here: 12 s for them to prepare before the agreed T0.
  this.timeout(240_000);
  let dir: string;
  before(() => (dir = tempDir()));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function runOnce(scenario: Scenario, sharded: boolean): Promise<{ code: number; report: RunReport }> {
    const sim = await startTestSim();
    try {
      const plan = smallPlan(sim, { users: 2, only: ['ssh'] });
      plan.timeline.ssh = [0, 3];
      // No threshold that a busy machine's late connections could break: each scenario fails (or not) by itself.
      plan.thresholds = [];
      scenario.plan?.(plan);
      const planFile = path.join(dir, `${scenario.name.replace(/ /g, '-')}-${sharded ? 'sharded' : 'local'}.scaletest.json`);
      fs.writeFileSync(planFile, JSON.stringify(plan));
      const out = path.join(dir, path.basename(planFile, '.scaletest.json'));
      const stop = new AbortController();
      const io = { ...capture({ CODER_SESSION_TOKEN: scenario.token ?? sim.ownerToken }), signal: stop.signal };
      const args = ['run', planFile, '--url', sim.url, '--out', out, '--ndjson'];
      const done = main(sharded ? [...args, '--shards', '2', '--local', '--start-delay', '15'] : args, io);
      if (scenario.whenRunning) {
        // Once every shard has prepared (the merged prepare stage is done only then).
        const ready = () =>
          io
            .out()
            .split('\n')
            .some((line) => /"name":"prepare"[^}]*"state":"done"/.test(line));
        while (!ready()) await new Promise((resolve) => setTimeout(resolve, 100));
        scenario.whenRunning(sim, stop);
      }
      const code = await done;
      const [runId] = fs.readdirSync(out);
      return { code, report: JSON.parse(fs.readFileSync(path.join(out, runId, 'report.json'), 'utf8')) as RunReport };
    } finally {
      await sim.close();
    }
  }

  for (const scenario of SCENARIOS) {
    it(scenario.name, async () => {
      const local = await runOnce(scenario, false);
      const sharded = await runOnce(scenario, true);
      const decided = ({ code, report }: { code: number; report: RunReport }) => ({
        code,
        exitCode: report.exitCode,
        verdict: report.verdict,
        reason: normalised(report.reason, report.runId),
      });
      assert.deepStrictEqual(decided(sharded), decided(local));
      const expected = { pass: 0, 'threshold fail': 1, abort: 130, 'access failure': 3, 'cleanup leftovers': 4 }[scenario.name];
      assert.strictEqual(local.code, expected, local.report.reason);
    });
  }
});
