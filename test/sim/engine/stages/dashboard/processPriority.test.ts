import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BROWSER_NICENESS, browserProcessTree, nicedLauncher } from '../../../../../src/engine/stages/dashboard/processPriority';

describe('browser process priority', () => {
  it('finds the whole tree under a matching child, and nothing else', async function () {
    if (process.platform !== 'linux') this.skip();
    // A "browser" (sh) with a child of its own, and an unrelated child that must not be touched.
    const browser = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const tree = browserProcessTree(process.pid, (command) => command === 'sh');
      assert.ok(tree.includes(browser.pid!), 'the matching child');
      assert.ok(tree.length >= 2, `its own child too (${tree.join(',')})`);
      assert.ok(!tree.includes(other.pid!), 'not the unrelated child');
      for (const pid of tree) os.setPriority(pid, 5);
      assert.strictEqual(os.getPriority(browser.pid!), 5);
      assert.strictEqual(os.getPriority(other.pid!), os.getPriority(process.pid));
    } finally {
      browser.kill();
      other.kill();
    }
  });

  it('starts the browser through a launcher that lowers its priority from the start, arguments intact', function () {
    if (process.platform !== 'linux') this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'niced-'));
    try {
      const launcher = nicedLauncher('/bin/sh', dir);
      assert.notStrictEqual(launcher, '/bin/sh');
      const result = spawnSync(launcher, ['-c', 'echo "$(cut -d" " -f19 /proc/$$/stat) $1"', 'sh', 'it is me'], { encoding: 'utf8' });
      assert.strictEqual(result.status, 0, result.stderr);
      assert.strictEqual(result.stdout.trim(), `${BROWSER_NICENESS} it is me`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
