import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { startRun } from '../../../../src/engine/run/run';
import { smallPlan, useSimAndOutDir } from '../../../support/simRun';

describe('a run whose runner stalls', function () {
  this.timeout(90_000);
  const env = useSimAndOutDir();

  it('fails the latency limit but names the runner, not the deployment, as suspect', async () => {
    const plan = smallPlan(env.sim, { users: 2, only: ['pty'], slotSeconds: 2 });
    plan.thresholds = [{ expression: 'pty.rtt.p95 < 100ms' }, { expression: 'pty.mismatches == 0' }].map((t) => ({
      ...t,
      abortOnFail: false,
      abortAfterSeconds: 0,
    }));
    const handle = startRun({ plan, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: env.out });
    // Once traffic runs, this process (runner and simulator alike) blocks its own event loop
    // for 400 ms out of every 700 ms: the deployment is innocent.
    const hog = setInterval(() => {
      if (handle.latest().status !== 'running') return;
      const until = performance.now() + 400;
      while (performance.now() < until) {
        // busy
      }
    }, 300);
    const result = await handle.done.finally(() => clearInterval(hog));
    assert.strictEqual(result.verdict, 'fail');
    const rtt = result.snapshot.thresholds.find((t) => t.expression === 'pty.rtt.p95 < 100ms')!;
    assert.strictEqual(rtt.verdict, 'fail');
    assert.match(rtt.runnerSuspect ?? '', /runner, not the deployment, is suspect/, rtt.runnerNote);
    assert.match(result.snapshot.runnerSuspect ?? '', /event-loop lag p99 up to \d+ ms/);
    assert.match(result.snapshot.reason ?? '', /Runner suspect: /);
    const report = JSON.parse(fs.readFileSync(path.join(result.reportDir, 'report.json'), 'utf8'));
    assert.match(JSON.stringify(report), /runner, not the deployment, is suspect/);
  });
});
