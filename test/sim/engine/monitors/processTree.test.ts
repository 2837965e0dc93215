// The runner's child processes as /proc shows them: real processes, spawned here.
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import { ProcessTreeSampler } from '../../../../src/engine/monitors/processTree';

describe('runner child processes (/proc)', function () {
  this.timeout(20_000);
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) child.kill('SIGKILL');
  });

  function busy(label: string, grandchild = false): ChildProcess {
    // `node -e` with the label in its command line; a grandchild: a shell that starts the node.
    const script = `/* ${label} */ const end = Date.now() + 15000; while (Date.now() < end) {}`;
    const child = grandchild ? spawn('sh', ['-c', `node -e '${script}'; true`]) : spawn(process.execPath, ['-e', script]);
    started.push(child);
    return child;
  }

  it("counts the runner's children and their descendants with CPU and memory, leaving foreign ones out", async () => {
    busy('ssh --stdio alice/ws1');
    busy('plain', true);
    const foreign = busy('simulated deployment', true);
    const sampler = new ProcessTreeSampler({ foreignPids: () => [foreign.pid!] });
    const everything = new ProcessTreeSampler();
    // Let the shells start their node children first.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = sampler.sample();
    everything.sample();
    // The command line is read off the event loop: known from the next sample on, by name before.
    assert.ok(!('unavailable' in first) && !first.kinds.some((k) => k.kind === 'coder CLI'), JSON.stringify(first));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const figures = sampler.sample();
    const all = everything.sample();
    assert.ok(!('unavailable' in figures), JSON.stringify(figures));
    const ours = figures.kinds.reduce((sum, k) => sum + k.count, 0);
    // The node child, the shell and its node; not the foreign shell nor its node.
    assert.ok(ours >= 3, JSON.stringify(figures));
    assert.strictEqual(figures.kinds.find((k) => k.kind === 'coder CLI')?.count, 1, JSON.stringify(figures));
    assert.ok(figures.cpuPercent > 10, `busy children use CPU: ${figures.cpuPercent}%`);
    assert.ok(figures.rssBytes > 3 * 10 * 1024 * 1024, `three processes hold memory: ${figures.rssBytes}`);
    assert.ok(!('unavailable' in all));
    assert.strictEqual(all.count - figures.count, 2, 'the foreign shell and its node are left out, nothing else');
  });
});
