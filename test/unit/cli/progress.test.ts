import * as assert from 'assert';
import { ProgressView, renderTable } from '../../../src/cli/progress';
import type { RunSnapshot, StageSnapshot } from '../../../src/protocol/snapshot';
import { sampleSnapshot } from '../../support/snapshotFixture';

function withStage(snapshot: RunSnapshot, name: StageSnapshot['name'], overrides: Partial<StageSnapshot>): RunSnapshot {
  return { ...snapshot, stages: snapshot.stages.map((stage) => (stage.name === name ? { ...stage, ...overrides } : stage)) };
}

function allDone(snapshot: RunSnapshot): RunSnapshot {
  return { ...snapshot, stages: snapshot.stages.map((stage) => ({ ...stage, state: stage.state === 'running' ? 'done' : stage.state })) };
}

describe('CLI progress lines (not a terminal)', () => {
  function view() {
    let out = '';
    const progress = new ProgressView({ write: (text) => void (out += text), isTTY: false }, { write: () => undefined }, false);
    return {
      progress,
      lines: () =>
        out
          .split('\n')
          .filter(Boolean)
          .map((line) => line.slice(9)),
    };
  }
  const base = sampleSnapshot();

  it('prepare and cleanup show done/total and failures; traffic shows connections and p95', () => {
    const { progress, lines } = view();
    const preparing = withStage(allDone({ ...base, status: 'preparing', thresholds: [] }), 'prepare', {
      state: 'running',
      progress: { done: 3, total: 10, failed: 1, queued: 4, building: 2 },
    });
    progress.snapshot(preparing);
    progress.snapshot({ ...base, now: base.now + 5000 });
    const cleaning = withStage(allDone({ ...base, status: 'cleaning', now: base.now + 10_000 }), 'cleanup', {
      state: 'running',
      progress: { done: 4, total: 4, failed: 0 },
    });
    progress.snapshot(cleaning);
    assert.deepStrictEqual(lines(), [
      'progress preparing: prepare 3/10 done, 1 failed, 4 queued, 2 building',
      'progress running: ssh 2/2 conns p95 20.0ms, pty 1/2 conns p95 450ms; 1 threshold(s) failing',
      'progress cleaning: cleanup 4/4 done; 1 threshold(s) failing',
    ]);
  });

  it('writes no line when nothing is under way (between stages, before the totals are known, finished)', () => {
    const { progress, lines } = view();
    const preparingWithoutTotal = withStage(allDone({ ...base, status: 'preparing' }), 'prepare', {
      state: 'running',
      progress: undefined,
    });
    progress.snapshot(preparingWithoutTotal);
    progress.snapshot({ ...allDone(base), now: base.now + 5000 });
    progress.snapshot({ ...allDone(base), status: 'finished', now: base.now + 10_000 });
    assert.deepStrictEqual(lines(), []);
    // A skipped empty line does not hold back the next real one.
    progress.snapshot({ ...base, now: base.now + 11_000 });
    assert.strictEqual(lines().length, 1);
  });
});

describe('CLI run table', () => {
  it('keeps a stage title longer than the default column apart from its state', () => {
    const base = sampleSnapshot();
    const long = withStage(base, base.stages[1]!.name, { title: 'Dynamic parameters', state: 'skipped' });
    const lines = renderTable(long, false);
    const row = lines.find((line) => line.startsWith('Dynamic parameters'));
    assert.ok(row, lines.join('\n'));
    assert.match(row, /^Dynamic parameters +skipped /);
    // Every row's state starts in the same column as the header's.
    const column = lines[1]!.indexOf('state');
    for (const stage of long.stages) {
      const line = lines.find((l) => l.startsWith(stage.title))!;
      assert.strictEqual(line.indexOf(stage.state, stage.title.length), column, line);
    }
  });
});
