// Line "runner": can this machine drive the plan alone, or does it need shards.
import type { Plan } from '../plan/plan';
import { runnerCapacity } from '../plan/runnerCapacity';
import type { Lines } from './lines';

export function checkRunnerCapacity(plan: Plan, machine: { cores: number; memoryBytes: number }, lines: Lines): void {
  const capacity = runnerCapacity(plan, machine);
  if (capacity.shardsNeeded <= 1 && !capacity.cliRampTooFast) lines.add('runner', 'pass', capacity.summary);
  else
    lines.add(
      'runner',
      'warn',
      capacity.summary,
      capacity.shardsNeeded > 1
        ? `run it as ${capacity.shardsNeeded} shards: --shards ${capacity.shardsNeeded} (--local here, or k8s run)`
        : capacity.cliRampTooFast,
    );
}
