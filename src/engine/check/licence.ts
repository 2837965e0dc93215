// Line "licence": do the run's users fit the licence's seats beside the users there already.
import type { CoderClient } from '../../coder/client';
import type { Plan } from '../plan/plan';
import { errorMessage as message, type Lines } from './lines';

export async function checkLicence(client: CoderClient, plan: Plan, lines: Lines): Promise<void> {
  try {
    const entitlements = await client.entitlements();
    const limit = entitlements?.features.user_limit;
    if (!entitlements) lines.add('licence', 'pass', 'no licence (this coderd serves no entitlements): no user limit');
    else if (!limit?.enabled || limit.limit === undefined || limit.limit === null)
      lines.add('licence', 'pass', 'the licence sets no user limit');
    else {
      const actual = limit.actual ?? 0;
      const after = actual + plan.users;
      const detail = `${actual} active user(s) now, ${plan.users} more during the run: ${after} of a licensed ${limit.limit}`;
      if (after > limit.limit) {
        lines.add(
          'licence',
          'fail',
          detail,
          `lower users to ${Math.max(0, limit.limit - actual)} or less, clean up leftovers (cleanup --run-id), or raise the licence's seats`,
        );
      } else if (after > limit.limit * 0.9)
        lines.add('licence', 'warn', detail, 'close to the seat limit: leftovers of this run would push past it');
      else lines.add('licence', 'pass', detail);
    }
  } catch (error) {
    lines.add(
      'licence',
      'warn',
      `cannot read the entitlements: ${message(error)}`,
      "check the licence's seats by hand (Deployment → Licenses)",
    );
  }
}
