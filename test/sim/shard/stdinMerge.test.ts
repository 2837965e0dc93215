import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { PassThrough } from 'stream';
import { main } from '../../../src/cli/main';
import { StageMetrics } from '../../../src/engine/metrics/stageMetrics';
import type { RunReport } from '../../../src/engine/outputs/report/report';
import type { RunSnapshot } from '../../../src/protocol/snapshot';
import type { SimDeployment } from '../../../src/sim';
import { encodeShardMessage } from '../../../src/shard/message';
import { ShardReporter } from '../../../src/shard/producer';
import { smallPlan, startTestSim, tempDir } from '../../support/simRun';

/** The lines one shard would print: a report of a finished pty stage, then (optionally) its result. */
function shardLines(index: number, count: number, withResult: boolean): string[] {
  const pty = new StageMetrics('pty', 'Web terminal');
  pty.state = 'done';
  for (let i = 0; i < 50; i++) pty.latency.record(10 + index);
  const api = { requests: 1, errors4xx: 0, errors5xx: 0, networkErrors: 0, latency: pty.latency.summary() };
  const snapshot = {
    status: 'finished',
    stages: [pty.snapshot()],
    api: { total: api, byClass: {} },
    runner: { cpuPercent: 1, rssBytes: 1, heapUsedBytes: 1, eventLoopLagP99Ms: 1, overloaded: false },
  } as unknown as RunSnapshot;
  const reporter = new ShardReporter('ststdin1', { index, count });
  const lines = [
    encodeShardMessage(
      reporter.report(snapshot, { stages: { pty: { latency: pty.latency.encode() } }, api: { total: pty.latency.encode() } }),
    ),
  ];
  if (withResult)
    lines.push(
      encodeShardMessage(
        reporter.result({ exitCode: 0, status: 'finished', cleanup: { deletedUsers: 1, deletedWorkspaces: 1, leftovers: [] } }),
      ),
    );
  return lines;
}

describe('run --shards N --stdin (merging shards that run elsewhere, e.g. kubectl logs -f)', function () {
  this.timeout(60_000);
  let sim: SimDeployment;
  let dir: string;
  before(async () => {
    sim = await startTestSim();
    dir = tempDir();
  });
  after(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('merges the mixed stream into one verdict; a shard whose stream ends without a result is lost', async () => {
    const planFile = path.join(dir, 'p.scaletest.json');
    const plan = smallPlan(sim, { users: 2, only: ['pty'] });
    plan.thresholds = [{ expression: 'pty.rtt.p95 < 5s', abortOnFail: false, abortAfterSeconds: 0 }];
    fs.writeFileSync(planFile, JSON.stringify(plan));
    const run = async (lines: string[]) => {
      const stdin = new PassThrough();
      let out = '';
      let err = '';
      const io = {
        stdout: { write: (t: string) => void (out += t) },
        stderr: { write: (t: string) => void (err += t) },
        env: { CODER_SESSION_TOKEN: sim.ownerToken },
        stdin,
      };
      const done = main(['run', planFile, '--shards', '2', '--stdin', '--run-id', 'ststdin1', '--url', sim.url, '--out', dir], io);
      stdin.end(lines.join('\n') + '\n');
      const code = await done;
      const report = JSON.parse(fs.readFileSync(path.join(dir, 'ststdin1', 'report.json'), 'utf8')) as RunReport;
      return { code, out, err, report };
    };
    // kubectl's own lines and the shards' stderr logs are mixed in: skipped.
    const noise = ['[shard 0] info: prepare started', 'pod/coder-scaletest-ststdin1-0-abcde: not a message'];
    const whole = await run([...noise, ...shardLines(0, 2, true), ...shardLines(1, 2, true)]);
    assert.strictEqual(whole.code, 0, whole.err);
    assert.strictEqual(whole.report.verdict, 'pass');
    assert.strictEqual(whole.report.stages.find((stage) => stage.name === 'pty')!.latency.count, 100);
    assert.deepStrictEqual(whole.report.cleanup, { deletedUsers: 2, deletedWorkspaces: 2, leftovers: [] });

    const partial = await run([...shardLines(0, 2, true), ...shardLines(1, 2, false)]);
    assert.strictEqual(partial.code, 5);
    assert.match(partial.report.reason!, /shard 1\/2 was lost \(its stream ended without a result\)/);
  });
});
