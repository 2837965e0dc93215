import * as assert from 'assert';
import * as net from 'net';
import * as os from 'os';
import { CoderClient } from '../../../src/coder/client';
import { startSimDeploymentProcess } from '../../../src/sim/process';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('simulated deployment in a process of its own', function () {
  this.timeout(60_000);

  it('serves the API from another pid, reports stats over IPC and exits on close', async () => {
    const sim = await startSimDeploymentProcess({ buildDurationMs: 100, agentConnectDelayMs: 50, directSsh: true, niceness: 5 });
    try {
      assert.notStrictEqual(sim.pid, process.pid);
      assert.strictEqual(os.getPriority(sim.pid), Math.min(19, os.getPriority() + 5), 'runs below the runner');
      assert.ok(sim.directSsh && sim.directSsh.port > 0);
      const owner = new CoderClient({ url: sim.url, token: sim.ownerToken });
      try {
        const me = await owner.requireOwner();
        assert.strictEqual(me.email, sim.ownerEmail);
      } finally {
        owner.close();
      }
      const stats = await sim.stats();
      assert.ok(stats.requests > 0, `requests ${stats.requests}`);
      await assert.rejects(sim.setFaults({ nonsense: true } as never), /nonsense|unknown|not allowed/i);
    } finally {
      await sim.close();
    }
    assert.strictEqual(alive(sim.pid), false, 'the child exited');
  });

  it('says why when the deployment cannot start', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      await assert.rejects(startSimDeploymentProcess({ host: '127.0.0.1', port }), /could not start.*EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});
