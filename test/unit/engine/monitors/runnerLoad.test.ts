import * as assert from 'assert';
import { describeChildren, runnerOverload } from '../../../../src/engine/monitors/monitors';
import { classifyCommand, parseProcStat } from '../../../../src/engine/monitors/processTree';

const GIB = 1024 ** 3;

describe('runner load with its child processes', () => {
  const quiet = { cpuPercent: 20, eventLoopLagP99Ms: 5, rssBytes: 200 * 1024 ** 2, cores: 2, memoryBytes: 24 * GIB };

  it('is overloaded when its children fill the machine, though its own thread idles', () => {
    const children = {
      count: 192,
      cpuPercent: 175,
      rssBytes: 8.4 * GIB,
      kinds: [{ kind: 'coder CLI' as const, count: 192, cpuPercent: 175, rssBytes: 8.4 * GIB }],
    };
    const warning = runnerOverload({ ...quiet, cpuPercent: 5, children });
    assert.ok(warning);
    assert.match(warning, /with its 192 child processes \(192 coder CLI 175%\) it used 1\.8 of 2 cores/);
    assert.match(warning, /each SSH connection of the coder-cli transport is a process of its own/);
    assert.strictEqual(runnerOverload({ ...quiet, children: { ...children, cpuPercent: 100, kinds: [] } }), undefined);
  });

  it('is overloaded when it and its children hold nearly all the memory', () => {
    const children = { count: 500, cpuPercent: 10, rssBytes: 22 * GIB, kinds: [] };
    assert.match(runnerOverload({ ...quiet, children })!, /with its 500 child processes it holds 22\.2 of 24\.0 GiB of memory/);
  });

  it("keeps the runner's own signs: event-loop lag and its thread's CPU", () => {
    assert.strictEqual(runnerOverload(quiet), undefined);
    assert.match(runnerOverload({ ...quiet, eventLoopLagP99Ms: 74 })!, /event-loop lag p99 74 ms/);
    assert.match(runnerOverload({ ...quiet, cpuPercent: 95 })!, /CPU 95%/);
  });

  it('names child processes by kind', () => {
    assert.strictEqual(
      describeChildren({
        count: 3,
        cpuPercent: 30,
        rssBytes: 0,
        kinds: [
          { kind: 'Chromium', count: 2, cpuPercent: 25.4, rssBytes: 0 },
          { kind: 'other', count: 1, cpuPercent: 4.6, rssBytes: 0 },
        ],
      }),
      '3 child processes (2 Chromium 25%, 1 other 5%)',
    );
  });
});

describe('/proc parsing', () => {
  it('reads ppid, CPU ticks, start time and resident pages past a command name with spaces and parentheses', () => {
    const text =
      '4242 (coder (ssh) x) S 100 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 987654 123456789 3300 18446744073709551615';
    assert.deepStrictEqual(parseProcStat(4242, text), { pid: 4242, ppid: 100, ticks: 300, startTicks: 987654, rssPages: 3300 });
    assert.strictEqual(parseProcStat(1, 'garbage'), undefined);
  });

  it('tells coder CLI processes (the real binary, the simulated one under node) and Chromium apart', () => {
    assert.strictEqual(classifyCommand('/usr/local/bin/coder ssh --stdio alice/ws1.main'), 'coder CLI');
    assert.strictEqual(classifyCommand('node /home/u/.cache/coder-scaletest/x/coder-linux-amd64 ssh --stdio alice/ws1'), 'coder CLI');
    assert.strictEqual(classifyCommand('/usr/lib/chromium/chromium --type=renderer --no-sandbox'), 'Chromium');
    assert.strictEqual(classifyCommand('node dist/cli.js --sim-child'), 'other');
    assert.strictEqual(classifyCommand('ssh alice@host'), 'other');
  });
});
