import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { decideOutcome, EXIT_CODE_TABLE, EXIT_CODES, exitCodeHelp, type OutcomeFacts } from '../../../../src/engine/judge/outcome';
import type { ThresholdSnapshot } from '../../../../src/protocol/snapshot';

const facts = (extra: Partial<OutcomeFacts> = {}): OutcomeFacts => ({
  errors: [],
  runnerProblems: [],
  failedThresholds: [],
  cleanup: { ran: true, leftovers: 0 },
  runId: 'run1',
  ...extra,
});

const failed = (expression: string, runnerSuspect?: string): ThresholdSnapshot => ({
  expression,
  metric: expression.split(' ')[0],
  observed: 500,
  observedText: '500ms',
  verdict: 'fail',
  abortOnFail: false,
  reason: `${expression.split(' ')[0]} was 500ms, required ${expression.split(' ').slice(1).join(' ')}`,
  ...(runnerSuspect ? { runnerSuspect } : {}),
});

describe('decideOutcome: one verdict, reason and exit code for every run', () => {
  it('passes a clean run with exit 0', () => {
    assert.deepStrictEqual(decideOutcome(facts()), { verdict: 'pass', exit: 'passed', exitCode: 0, reason: undefined, status: 'finished' });
  });

  it('fails thresholds with exit 1 and names them', () => {
    const outcome = decideOutcome(facts({ failedThresholds: [failed('pty.rtt.p95 < 300ms')] }));
    assert.strictEqual(outcome.exitCode, 1);
    assert.strictEqual(outcome.reason, '1 threshold(s) failed: pty.rtt.p95 was 500ms, required < 300ms');
  });

  it('says the runner is suspect (exit 5) only when the runner explains every failed threshold', () => {
    const all = decideOutcome(facts({ failedThresholds: [failed('pty.rtt.p95 < 300ms', 'the runner stalled')] }));
    assert.strictEqual(all.exit, 'runner');
    assert.match(all.reason!, /Runner suspect: the runner stalled/);
    const some = decideOutcome(
      facts({ failedThresholds: [failed('pty.rtt.p95 < 300ms', 'the runner stalled'), failed('api.latency.p95 < 300ms')] }),
    );
    assert.strictEqual(some.exit, 'failed');
    assert.strictEqual(decideOutcome(facts({ runnerProblems: ['shard 1/2 was lost (killed by SIGKILL)'] })).exitCode, 5);
  });

  it('a lost runner explains thresholds left without data (exit 5), not those with data of their own', () => {
    const lost = ['shard 1/3 was lost (its pod failed)'];
    const noData: ThresholdSnapshot = { ...failed('ssh.rtt.p95 < 5s'), observed: null, observedText: 'no data' };
    assert.strictEqual(decideOutcome(facts({ runnerProblems: lost, failedThresholds: [noData] })).exitCode, 5);
    assert.strictEqual(decideOutcome(facts({ failedThresholds: [noData] })).exitCode, 1, 'without a lost runner, no data is a failure');
    const measured = decideOutcome(facts({ runnerProblems: lost, failedThresholds: [noData, failed('api.latency.p95 < 300ms')] }));
    assert.strictEqual(measured.exitCode, 1);
  });

  it('ranks access above a signal (the merged path used to rank the abort first)', () => {
    const outcome = decideOutcome(
      facts({ access: 'the deployment rejected the session token', abort: { by: 'user', reason: 'aborted by the user' } }),
    );
    assert.strictEqual(outcome.exitCode, EXIT_CODES.access);
    assert.strictEqual(outcome.verdict, 'fail');
  });

  it('ranks a signal above leftovers, leftovers above failed thresholds', () => {
    const leftovers = { cleanup: { ran: true, leftovers: 2 } };
    assert.strictEqual(decideOutcome(facts({ ...leftovers, abort: { by: 'user', reason: 'stopped by SIGINT' } })).exitCode, 130);
    const both = decideOutcome(facts({ ...leftovers, failedThresholds: [failed('pty.rtt.p95 < 300ms')] }));
    assert.strictEqual(both.exitCode, 4);
    assert.match(both.reason!, /1 threshold\(s\) failed.*; cleanup left 2 resource\(s\) of run run1 behind$/);
  });

  it('does not count what a kept cleanup left (strategy never)', () => {
    assert.strictEqual(decideOutcome(facts({ cleanup: { ran: false, leftovers: 5 } })).exitCode, 0);
  });

  it('a threshold abort is a failure (1), its status aborted, its reason not repeated', () => {
    const outcome = decideOutcome(
      facts({
        abort: { by: 'threshold', reason: 'threshold "pty.rtt.p95 < 300ms" breached' },
        failedThresholds: [failed('pty.rtt.p95 < 300ms')],
      }),
    );
    assert.deepStrictEqual([outcome.exitCode, outcome.status, outcome.reason], [1, 'aborted', 'threshold "pty.rtt.p95 < 300ms" breached']);
  });

  it('a capacity search decides by its own verdict and sentence', () => {
    const outcome = decideOutcome(
      facts({ search: { verdict: 'pass', reason: 'holds 1400 users' }, failedThresholds: [failed('pty.rtt.p95 < 300ms')] }),
    );
    assert.deepStrictEqual([outcome.exitCode, outcome.reason], [0, 'holds 1400 users']);
  });

  it('the help lists every code once, in order', () => {
    const codes = exitCodeHelp()
      .split('\n')
      .map((line) => Number(line.trim().split(/\s+/)[0]));
    assert.deepStrictEqual(codes, [0, 1, 2, 3, 4, 5, 130]);
    assert.strictEqual(new Set(EXIT_CODE_TABLE.map((row) => row.reason)).size, EXIT_CODE_TABLE.length);
  });
});

describe('the exit-code table is one table', () => {
  it("the README's table lists exactly the codes of EXIT_CODE_TABLE", () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('Exit codes (the same table'));
    const codes = [...section.matchAll(/^\| (\d+) \| /gm)].map((match) => Number(match[1]));
    assert.deepStrictEqual(
      codes,
      [...EXIT_CODE_TABLE].map((row) => row.code).sort((a, b) => a - b),
    );
  });
});
