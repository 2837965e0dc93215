import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main, type CliIo } from '../../../../src/cli/main';
import type { RunReport } from '../../../../src/engine/outputs/report/report';
import type { SimDeployment } from '../../../../src/sim';
import { smallPlan, startTestSim, tempDir } from '../../../support/simRun';

function io(env: NodeJS.ProcessEnv = {}): CliIo & { out(): string; err(): string } {
  const text = { out: '', err: '' };
  return {
    stdout: { write: (chunk: string) => void (text.out += chunk), isTTY: false },
    stderr: { write: (chunk: string) => void (text.err += chunk), isTTY: false },
    env,
    out: () => text.out,
    err: () => text.err,
  };
}

const reportOf = (out: string, runId: string) => JSON.parse(fs.readFileSync(path.join(out, runId, 'report.json'), 'utf8')) as RunReport;

describe('CLI baselines', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('bad usage of `baseline` exits 2 and says what to write', async () => {
    const cases: [string[], RegExp][] = [
      [['baseline'], /expected "baseline set RUN", "baseline show \[PLAN\]" or "baseline clear PLAN"/],
      [['baseline', 'set'], /baseline set needs RUN/],
      [['baseline', 'set', 'stnothere', '--out', dir], /no report for "stnothere": give a run's report directory/],
      [['baseline', 'clear'], /baseline clear needs PLAN/],
      [['baseline', 'show', 'a', 'b'], /takes one argument/],
    ];
    for (const [args, message] of cases) {
      const cli = io();
      assert.strictEqual(await main(args, cli), 2, args.join(' '));
      assert.match(cli.err(), message);
    }
    const none = io();
    assert.strictEqual(await main(['baseline', 'show', 'no such plan', '--out', dir], none), 1);
    assert.match(none.err(), /"no such plan" has no baseline .*mark one with: coder-scaletest baseline set RUN/);
    const help = io();
    assert.strictEqual(await main(['run', '--help'], help), 0);
    assert.match(help.out(), /--mark-baseline/);
  });

  describe('against the simulated deployment', () => {
    let sim: SimDeployment;
    beforeEach(async () => (sim = await startTestSim()));
    afterEach(async () => sim.close());

    it('a marked baseline makes `baseline * 1.2` fail with a latency fault and pass without it', async () => {
      const plan = smallPlan(sim, { users: 2, only: ['pty'] });
      plan.name = 'baseline check';
      plan.thresholds = [
        { expression: 'pty.rtt.p95 < baseline * 1.2 + 50ms', abortOnFail: false, abortAfterSeconds: 0 },
        { expression: 'pty.mismatches == 0', abortOnFail: false, abortAfterSeconds: 0 },
      ];
      const file = path.join(dir, 'check.scaletest.json');
      fs.writeFileSync(file, JSON.stringify(plan));
      const out = path.join(dir, 'results');
      const env = { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken };

      // 1. No baseline yet: the baseline threshold is not applicable, the run passes and is marked.
      const first = io(env);
      assert.strictEqual(await main(['run', file, '--out', out, '--mark-baseline'], first), 0, first.err());
      const baselineRun = /run (\w+) is now the baseline/.exec(first.err())![1]!;
      assert.match(first.err(), /is now the baseline of "baseline check" \(.*baselines\/baseline-check\.json\)/);
      const firstReport = reportOf(out, baselineRun);
      assert.strictEqual(firstReport.thresholds[0]!.verdict, 'skipped');
      assert.match(firstReport.thresholds[0]!.reason!, /no baseline is marked for this plan/);
      assert.strictEqual(firstReport.baseline, undefined, 'no baseline section without a baseline');

      const shown = io();
      assert.strictEqual(await main(['baseline', 'show', file, '--out', out], shown), 0, shown.err());
      assert.match(shown.out(), new RegExp(`"baseline check": baseline run ${baselineRun} \\(pass\\).*the plan is unchanged since`));

      // 2. Every web-terminal echo held back 2 × 60 ms: slower than the baseline allows.
      sim.setFaults({ loadLatency: { pty: { msPerConnection: 60 } } });
      const slow = io(env);
      assert.strictEqual(await main(['run', file, '--out', out], slow), 1, slow.out());
      assert.match(slow.out(), /pty\.rtt\.p95 was \d+ms, required < [\d.]+ms \(baseline [\d.]+ms × 1\.2 \+ 50ms\)/);
      assert.match(slow.out(), /against the baseline \(run \w+\): worse: Web terminal \(p50 \+\d+%/);
      const [slowRun] = fs.readdirSync(out).filter((name) => name !== baselineRun && name !== 'baselines');
      const slowReport = reportOf(out, slowRun!);
      assert.strictEqual(slowReport.baseline?.runId, baselineRun);
      const pty = slowReport.baseline!.comparison.stages.find((stage) => stage.name === 'pty')!;
      assert.strictEqual(pty.change, 'worse', pty.comparison?.explanation);
      assert.match(fs.readFileSync(path.join(out, slowReport.runId, 'report.html'), 'utf8'), /Against the baseline[\s\S]*▲ worse/);

      // 3. The fault gone: within the baseline's limit again.
      sim.setFaults({});
      const healthy = io(env);
      assert.strictEqual(await main(['run', file, '--out', out], healthy), 0, healthy.out());

      // The baseline outlives its run's directory; `clear` removes it.
      fs.rmSync(path.join(out, baselineRun), { recursive: true });
      const listed = io();
      assert.strictEqual(await main(['baseline', 'show', '--out', out], listed), 0);
      assert.match(listed.out(), new RegExp(`baseline check: run ${baselineRun} \\(pass`));
      const cleared = io();
      assert.strictEqual(await main(['baseline', 'clear', file, '--out', out], cleared), 0);
      assert.match(cleared.out(), new RegExp(`cleared the baseline of "baseline check" \\(run ${baselineRun}\\)`));
    });
  });
});
