// The default plan scaled down for tests against a simulated deployment on loopback: a few
// users, short slots, SSH straight to the simulator's SSH port, a quick dashboard.
import { defaultPlan, type Plan } from '../../src/engine/plan/plan';
import type { SimDeployment } from '../../src/sim';

export interface ScaledDownOptions {
  users: number;
  slotSeconds: number;
  dashboard: boolean;
}

export function scaledDownPlan(sim: SimDeployment, options: ScaledDownOptions): Plan {
  const plan = defaultPlan();
  plan.users = options.users;
  plan.timeline.slotSeconds = options.slotSeconds;
  plan.concurrency = { prepare: 4, cleanup: 4 };
  plan.traffic.ssh.transport = 'direct';
  plan.traffic.ssh.directAddress = `${sim.directSsh!.host}:${sim.directSsh!.port}`;
  plan.traffic.dashboard.enabled = options.dashboard;
  // Each action must be done by the next one (the reference's deadline): at least 0.8 s here,
  // for Chromium on a busy test machine.
  plan.traffic.dashboard.intervalSeconds = 1;
  plan.traffic.dashboard.jitterSeconds = 0.2;
  plan.timeouts.echoSeconds = 5;
  // These tests check behaviour, not speed, on a noisy 2-core machine: every millisecond
  // latency limit is widened to 5 s (speed targets live in `npm run bench`).
  for (const threshold of plan.thresholds) threshold.expression = threshold.expression.replace(/< \d+ms/, '< 5s');
  return plan;
}
