import * as assert from 'assert';
import { runnerSuspicion } from '../../../../src/engine/judge/runnerSuspect';
import { parseThreshold } from '../../../../src/engine/judge/thresholds';
import type { HistoryPoint } from '../../../../src/protocol/snapshot';

function second(t: number, sshP95: number, lagMs: number, cpu = 40): HistoryPoint {
  return {
    t: t * 1000,
    stages: {
      ssh: { p50: sshP95 / 4, p95: sshP95, p99: sshP95 * 2, active: 20, target: 20, bytesPerSecond: 0, errors: 0, disconnects: 0 },
    },
    apiP95Ms: 20,
    apiRequestsPerSecond: 5,
    runnerCpuPercent: cpu,
    eventLoopLagMs: lagMs,
    deploymentHealthy: true,
  };
}

describe('runner suspicion on failed latency thresholds', () => {
  const sshP95 = parseThreshold('ssh.rtt.p95 < 300ms');

  it('blames the runner when the breached seconds are the seconds its event loop stalled', () => {
    // The demo: stalls of 808 ms and 418 ms, SSH p95 fine in every other second.
    const history = [second(1, 12, 3), second(2, 10, 4), second(3, 1900, 808, 96), second(4, 15, 5), second(5, 795, 418), second(6, 9, 2)];
    const suspicion = runnerSuspicion(sshP95, history);
    assert.ok(suspicion);
    assert.strictEqual(suspicion.breachedSeconds, 2);
    assert.strictEqual(suspicion.stalledSeconds, 2);
    assert.strictEqual(suspicion.worstLagMs, 808);
    assert.strictEqual(suspicion.worstCpuPercent, 96);
    assert.match(suspicion.explanation, /runner, not the deployment, is suspect/);
    assert.match(suspicion.explanation, /808 ms/);
  });

  it('counts a stall in the seconds before a breach (a starved runner catches up on its schedule for a while)', () => {
    const history = [second(1, 12, 3), second(2, 20, 300), second(3, 900, 4), second(4, 10, 2)];
    assert.ok(runnerSuspicion(sshP95, history));
    const slowRecovery = [second(1, 12, 900), second(2, 700, 0), second(3, 800, 1), second(4, 600, 2), second(5, 10, 2)];
    assert.strictEqual(runnerSuspicion(sshP95, slowRecovery)?.stalledSeconds, 3);
    const longAfter = [second(1, 12, 900), ...[2, 3, 4, 5, 6, 7, 8].map((t) => second(t, 10, 1)), second(9, 700, 1)];
    assert.strictEqual(runnerSuspicion(sshP95, longAfter), undefined, 'a stall 8 s earlier explains nothing');
  });

  it('blames nobody but the deployment when the runner kept up while the limit broke', () => {
    const history = [second(1, 400, 3), second(2, 500, 4), second(3, 450, 120), second(4, 600, 5), second(5, 10, 2)];
    assert.strictEqual(runnerSuspicion(sshP95, history), undefined);
  });

  it('judges only latency limits that history can place in time', () => {
    const history = [second(1, 900, 500)];
    assert.strictEqual(runnerSuspicion(parseThreshold('ssh.errors == 0'), history), undefined);
    assert.strictEqual(runnerSuspicion(parseThreshold('ssh.connect.p95 < 1s'), history), undefined);
    assert.ok(runnerSuspicion(parseThreshold('ssh.rtt.p99 < 300ms'), history));
    assert.strictEqual(runnerSuspicion(parseThreshold('ssh.rtt.p95 > 1ms'), history), undefined);
  });
});
