import * as assert from 'assert';
import { formatBytes, formatDuration, formatMs, worstRecentP95 } from '../../../../src/protocol/format';
import type { WorkspaceStageFigures } from '../../../../src/protocol/workspaces';
import { describeRun, failureMessage, statusBarSummary } from '../../../../src/vscode/runs/runModel';
import { sampleSnapshot } from '../../../support/snapshotFixture';

describe('vscode run model (tree, status bar, test messages)', () => {
  it('formats figures the same way everywhere', () => {
    assert.strictEqual(formatMs(12.345), '12.3ms');
    assert.strictEqual(formatMs(450), '450ms');
    assert.strictEqual(formatMs(12_500), '12.5s');
    assert.strictEqual(formatDuration(65_000), '1m 05s');
    assert.strictEqual(formatBytes(20480), '20.0 KiB');
  });

  it('builds a live run node with every stage and threshold as a child', () => {
    const model = describeRun(sampleSnapshot(), true);
    assert.match(model.label, /^● smoke \(st1abc\)$/);
    assert.strictEqual(model.icon, 'running');
    assert.deepStrictEqual(
      model.children.map((child) => child.label),
      [
        'Prepare',
        'SSH',
        'Web terminal',
        'Workspace apps',
        'Dashboard',
        'Cleanup',
        'ssh.rtt.p95 < 300ms',
        'pty.disconnects == 0',
        'api.errors_5xx == 0',
      ],
    );
    const pty = model.children.find((child) => child.id === 'stage:pty')!;
    assert.strictEqual(pty.icon, 'running');
    assert.match(pty.description, /1\/2 conn · p95 450ms · 3 errors · 1 disconnects · 3s/);
    const prepare = model.children.find((child) => child.id === 'stage:prepare')!;
    assert.match(prepare.description, /^2\/2 done · /);
    const failing = model.children.find((child) => child.label === 'pty.disconnects == 0')!;
    assert.deepStrictEqual([failing.icon, failing.description], ['fail', 'observed 1']);
    assert.strictEqual(model.children.find((child) => child.label === 'api.errors_5xx == 0')!.description, 'no data yet');
  });

  it('marks a finished run with its verdict', () => {
    const model = describeRun(sampleSnapshot({ status: 'finished', verdict: 'fail', reason: 'pty.disconnects == 0 failed' }), false);
    assert.strictEqual(model.icon, 'fail');
    assert.match(model.description, /^failed · 6s · 2026-11-27 21:00$/);
    assert.match(model.tooltip, /pty.disconnects == 0 failed/);
  });

  it('summarises the run for the status bar: stage, connections, worst p95, pass/fail', () => {
    const { text, tooltip } = statusBarSummary(sampleSnapshot());
    assert.strictEqual(text, '$(error) Web terminal · 3 conn · p95 500ms · 1✓ 1✗');
    assert.match(tooltip, /Worst p95: 500ms \(Web terminal\)/);
    assert.strictEqual(worstRecentP95(sampleSnapshot())!.stage.name, 'pty');
  });

  it('opens a stage onto its worst workspaces, worst first, when the snapshot ranks them', () => {
    const figures = (p95: number, disconnects: number): WorkspaceStageFigures => ({
      connects: 1 + disconnects,
      reconnects: disconnects,
      disconnects,
      mismatches: 0,
      errors: disconnects ? { echo_timeout: 2 } : {},
      bytesSent: 1024,
      bytesReceived: 1024,
      rtt: { count: 40, p50: p95 / 2, p95, max: p95 * 2 },
    });
    const row = (index: number, p95: number, disconnects: number) => ({
      index,
      user: `u${index}`,
      workspace: `scaletest-st1abc-${index}`,
      agent: 'main',
      stages: { pty: figures(p95, disconnects) },
    });
    const snapshot = sampleSnapshot({ workspaces: { total: 2, worst: { pty: [row(1, 900, 3), row(0, 20, 0)] } } });
    const stages = describeRun(snapshot, true).children.filter((child) => child.kind === 'stage');
    const pty = stages.find((child) => child.id === 'stage:pty')!;
    assert.deepStrictEqual(
      pty.children!.map((child) => [child.label, child.icon, child.description]),
      [
        ['scaletest-st1abc-1', 'fail', '3 disconnects, echo_timeout 2 · p95 900ms · max 1800ms'],
        ['scaletest-st1abc-0', 'pass', 'p95 20.0ms · max 40.0ms'],
      ],
    );
    assert.match(pty.children![0].tooltip, /^scaletest-st1abc-1 \(u1, agent main\)\n/);
    assert.ok(
      stages.filter((child) => child.id !== 'stage:pty').every((child) => !child.children),
      'a stage without ranked workspaces stays a leaf',
    );
  });

  it('writes failure messages carrying the observed values', () => {
    const snapshot = sampleSnapshot();
    assert.strictEqual(failureMessage(snapshot.thresholds[1]), 'pty.disconnects == 0 failed: observed 1 (1 disconnect)');
    const pty = { ...snapshot.stages[2], verdict: 'fail' as const, reason: 'connections dropped' };
    assert.strictEqual(failureMessage(pty), 'Web terminal failed: connections dropped; p95 450ms, p99 675ms; 3 errors, 1 disconnects');
  });
});
