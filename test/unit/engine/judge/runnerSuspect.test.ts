import * as assert from 'assert';
import { runnerSuspicion } from '../../../../src/engine/judge/runnerSuspect';
import { parseThreshold } from '../../../../src/engine/judge/thresholds';
import type { HistoryPoint, StageSnapshot } from '../../../../src/protocol/snapshot';

function second(t: number, sshP95: number, lagMs: number, cpu = 40, extra: Partial<HistoryPoint> = {}, active = 20): HistoryPoint {
  return {
    t: t * 1000,
    stages: {
      ssh: { p50: sshP95 / 4, p95: sshP95, p99: sshP95 * 2, active, target: 20, bytesPerSecond: 0, errors: 0, disconnects: 0 },
    },
    apiP95Ms: 20,
    apiRequestsPerSecond: 5,
    runnerCpuPercent: cpu,
    eventLoopLagMs: lagMs,
    deploymentHealthy: true,
    ...extra,
  };
}

describe('runner suspicion on failed latency thresholds', () => {
  const sshP95 = parseThreshold('ssh.rtt.p95 < 300ms');

  it('blames the runner when its stalls are long enough to explain the breached seconds', () => {
    // Stalls of 808 ms and 418 ms, SSH p95 fine in every other second.
    const history = [second(1, 12, 3), second(2, 10, 4), second(3, 1900, 808, 96), second(4, 15, 5), second(5, 795, 418), second(6, 9, 2)];
    const suspicion = runnerSuspicion(sshP95, history);
    assert.ok(suspicion?.blamed);
    assert.strictEqual(suspicion.breachedSeconds, 2);
    assert.strictEqual(suspicion.stalledSeconds, 2);
    assert.strictEqual(suspicion.worstLagMs, 808);
    assert.strictEqual(suspicion.worstCpuPercent, 96);
    assert.match(suspicion.explanation, /runner, not the deployment, is suspect/);
    assert.match(suspicion.explanation, /808 ms/);
  });

  it('names the child processes in the CPU of a runner that stalled (coder CLI processes starving its loop)', () => {
    const starved = { runnerChildrenCpuPercent: 150, runnerMachineShare: 0.8 };
    const history = [second(1, 12, 3), second(2, 4000, 2500, 30, starved), second(3, 3000, 1600, 25, starved)];
    const suspicion = runnerSuspicion(sshP95, history);
    assert.ok(suspicion?.blamed);
    assert.match(suspicion.explanation, /CPU with its child processes up to 180%, theirs up to 150%/);
  });

  it('counts a stall in the seconds before a breach (a starved runner catches up on its schedule for a while)', () => {
    const history = [second(1, 12, 3), second(2, 20, 500), second(3, 900, 4), second(4, 10, 2)];
    assert.ok(runnerSuspicion(sshP95, history)?.blamed);
    const slowRecovery = [second(1, 12, 900), second(2, 700, 0), second(3, 800, 1), second(4, 600, 2), second(5, 10, 2)];
    assert.strictEqual(runnerSuspicion(sshP95, slowRecovery)?.stalledSeconds, 3);
    const longAfter = [second(1, 12, 900), ...[2, 3, 4, 5, 6, 7, 8].map((t) => second(t, 10, 1)), second(9, 700, 1)];
    assert.strictEqual(runnerSuspicion(sshP95, longAfter)?.blamed, false, 'a stall 8 s earlier explains nothing');
  });

  it('does not blame stalls far too short for the latency, and says so (the issue: 71–74 ms lag, 450–790 ms p95)', () => {
    const history = [
      second(1, 10, 3),
      second(2, 792, 71, 60, {}, 12),
      second(3, 610, 74, 62, {}, 18),
      second(4, 453, 72),
      second(5, 12, 4),
    ];
    const suspicion = runnerSuspicion(sshP95, history);
    assert.ok(suspicion);
    assert.strictEqual(suspicion.blamed, false);
    assert.strictEqual(suspicion.stalledSeconds, 0);
    assert.match(suspicion.explanation, /^not the runner: in the 3 second\(s\) in which ssh\.rtt\.p95 broke its limit/);
    assert.match(suspicion.explanation, /stalled \(lag p99 up to 74 ms\), which explains at most ~148 ms of latencies up to 792 ms/);
    assert.match(suspicion.explanation, /2 of those seconds fell in the stage's ramp/);
  });

  it('says in how few of the breached seconds the stalls explain the latency when they explain some (not a bare worst against worst)', () => {
    // A 9 s stall explains second 2; seconds 3–5 are slow with the loop free.
    const history = [second(1, 10, 3), second(2, 6000, 9000), ...[12, 13, 14].map((t) => second(t, 7000, 5)), second(15, 10, 3)];
    const suspicion = runnerSuspicion(sshP95, history);
    assert.ok(suspicion && !suspicion.blamed);
    assert.strictEqual(suspicion.stalledSeconds, 1);
    assert.match(
      suspicion.explanation,
      /stalled \(lag p99 up to 9000 ms\) long enough to explain the latency in only 1 of them, too few to blame it/,
    );
    assert.doesNotMatch(suspicion.explanation, /explains at most/);
  });

  it('blames the runner for an error count made only of connections it did not open in time, and for nothing else', () => {
    const stage = (errors: Record<string, number>) => ({ name: 'ssh', errors }) as unknown as StageSnapshot;
    const sshErrors = parseThreshold('ssh.errors == 0');
    const notOpened = runnerSuspicion(sshErrors, [], [stage({ not_opened: 12 })]);
    assert.ok(notOpened?.blamed);
    assert.match(notOpened.explanation, /all 12 error\(s\) are connections this runner did not open/);
    // One error of another kind (the deployment's, or not known to be the runner's) keeps it the deployment's.
    assert.strictEqual(runnerSuspicion(sshErrors, [], [stage({ not_opened: 12, connect: 1 })]), undefined);
    assert.strictEqual(runnerSuspicion(sshErrors, [], [stage({ lost: 40 })]), undefined);
    assert.strictEqual(runnerSuspicion(sshErrors, [], [stage({})]), undefined);
  });

  it('adds up the stalls a long round trip met: a loop blocked most of every second explains more than its longest stall', () => {
    // 400 ms blocks back to back (lag p99 400 ms, 950 ms of every second stalled), round trips of 1.2 s.
    const blocked = { eventLoopStalledMs: 950 };
    const history = [second(1, 10, 3), ...[2, 3, 4, 5].map((t) => second(t, 1200, 400, 90, blocked)), second(6, 10, 3)];
    const suspicion = runnerSuspicion(parseThreshold('ssh.rtt.p95 < 100ms'), history);
    assert.ok(suspicion?.blamed, suspicion?.explanation);
    // One such stall a second cannot explain 3 s round trips: they met four at most.
    const once = [second(1, 10, 3), ...[2, 3, 4, 5, 6, 7].map((t) => second(t, 3000, 400, 30, { eventLoopStalledMs: 400 }))];
    assert.strictEqual(runnerSuspicion(parseThreshold('ssh.rtt.p95 < 100ms'), once)?.blamed, false);
  });

  it('says the runner kept up when it did, leaving the latency to the deployment', () => {
    const history = [second(1, 400, 3), second(2, 500, 4), second(3, 450, 12), second(4, 600, 5), second(5, 10, 2)];
    const suspicion = runnerSuspicion(sshP95, history);
    assert.strictEqual(suspicion?.blamed, false);
    assert.match(suspicion!.explanation, /the runner kept up \(event-loop lag p99 at most 12 ms/);
    assert.match(suspicion!.explanation, /the latency is the deployment's or the network's/);
    assert.doesNotMatch(suspicion!.explanation, /machine itself was busy/);
    // Other processes filling the machine are named (the runner's own share stayed small).
    const busy = history.map((point) => ({ ...point, machineCpuShare: 0.98, runnerMachineShare: 0.2 }));
    assert.match(
      runnerSuspicion(sshP95, busy)!.explanation,
      /the machine itself was busy \(up to 98% of its cores, the runner's share up to 20%\)/,
    );
  });

  it('blames the runner whose child processes used every core, though its own loop kept up (coder CLI processes)', () => {
    const saturated = { runnerChildrenCpuPercent: 180, runnerMachineShare: 0.97 };
    const history = [second(1, 10, 3), ...[2, 3, 4].map((t) => second(t, 5000, 20, 8, saturated)), second(5, 12, 4)];
    const suspicion = runnerSuspicion(sshP95, history);
    assert.ok(suspicion?.blamed);
    assert.strictEqual(suspicion.stalledSeconds, 3);
    assert.match(suspicion.explanation, /the runner and its child processes used up to 97% of the machine's cores/);
    assert.match(suspicion.explanation, /not visible as event-loop lag/);
    // The same latency with a machine only half used by the runner is not the runner's.
    const halfUsed = [
      second(1, 10, 3),
      ...[2, 3, 4].map((t) => second(t, 5000, 20, 8, { runnerChildrenCpuPercent: 90, runnerMachineShare: 0.49 })),
    ];
    assert.strictEqual(runnerSuspicion(sshP95, halfUsed)?.blamed, false);
  });

  it('judges open lag by how long the runner itself held the ramp back', () => {
    const openLag = parseThreshold('ssh.open_lag.p95 < 2s');
    const stage = (heldBackMs: number, p95: number, startedLateMs = heldBackMs) =>
      ({
        name: 'ssh',
        openLag: { count: 200, min: 10, mean: p95 / 2, p50: p95 / 2, p90: p95, p95, p99: p95, max: p95 },
        connectLatency: { count: 200, min: 10, mean: 40, p50: 40, p90: 60, p95: 70, p99: 90, max: 120 },
        ramp: { description: '200 connections at 50/s (4 s)', connectionsPerSecond: 50, heldBackMs, startedLateMs },
      }) as unknown as StageSnapshot;
    const held = runnerSuspicion(openLag, [], [stage(2900, 3500)]);
    assert.ok(held?.blamed);
    assert.match(held.explanation, /lag pacer held the ramp back 2900 ms/);
    const deployment = runnerSuspicion(openLag, [], [stage(300, 3500)]);
    assert.strictEqual(deployment?.blamed, false);
    assert.match(
      deployment!.explanation,
      /not the runner: it started its opens late by p95 300 ms \(its lag pacer held the ramp back 300 ms\) of an open lag of 3500 ms/,
    );
    // A runner whose own loop started the opens late is named though its pacer held little.
    const lagging = runnerSuspicion(openLag, [], [stage(300, 3500, 3200)]);
    assert.ok(lagging?.blamed);
    assert.match(lagging.explanation, /started its opens late \(p95 3200 ms/);
  });

  it('judges only upper latency limits', () => {
    const history = [second(1, 300, 500)];
    assert.strictEqual(runnerSuspicion(parseThreshold('ssh.errors == 0'), history), undefined);
    assert.strictEqual(runnerSuspicion(parseThreshold('ssh.connect.p95 < 1s'), history), undefined);
    assert.ok(runnerSuspicion(parseThreshold('ssh.rtt.p99 < 300ms'), history)?.blamed);
    assert.strictEqual(runnerSuspicion(parseThreshold('ssh.rtt.p95 > 1ms'), history), undefined);
  });
});
