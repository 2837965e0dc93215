// The web terminal stage against both reconnecting-PTY backends of coderd's agent: `buffered`
// (64 KiB replay on re-attach) and `screen` (start-up escapes, a redraw on re-attach).
import * as assert from 'assert';
import { startRun } from '../../../../../src/engine/run/run';
import { PTY_BACKENDS } from '../../../../../src/sim/agent/ptyService';
import { smallPlan, useSimAndOutDir } from '../../../../support/simRun';

describe('web terminal stage on both PTY backends', function () {
  this.timeout(60_000);
  const env = useSimAndOutDir();

  async function runPty(faults: Parameters<typeof env.sim.setFaults>[0]) {
    env.sim.setFaults(faults);
    const plan = smallPlan(env.sim, { users: 2, only: ['pty'] });
    const result = await startRun({ plan, connection: { url: env.sim.url, token: env.sim.ownerToken }, outDir: env.out }).done;
    return result.snapshot.stages.find((s) => s.name === 'pty')!;
  }

  for (const backend of PTY_BACKENDS) {
    it(`${backend}: every echo matches, nothing is lost`, async () => {
      const pty = await runPty({ ptyBackend: backend });
      assert.strictEqual(pty.mismatches, 0, JSON.stringify(pty));
      assert.deepStrictEqual(pty.errors, {});
      assert.ok(pty.completed > 20, `completed ${pty.completed}`);
      assert.strictEqual(pty.completed, pty.sent);
    });

    it(`${backend}: after drops the re-attach output is resync, never a mismatch`, async () => {
      const pty = await runPty({ ptyBackend: backend, dropConnections: { pty: { fraction: 1, afterMs: 300 } } });
      assert.ok(pty.reconnects >= 1, `reconnects ${pty.reconnects}`);
      assert.strictEqual(pty.mismatches, 0, JSON.stringify(pty));
      assert.ok((pty.resynced ?? 0) > 0, 'the replay or redraw was counted as resync');
      assert.ok(pty.completed > 10, `completed ${pty.completed}`);
    });
  }
});
