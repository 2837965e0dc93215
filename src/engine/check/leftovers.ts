// Line "leftovers": scale-test users of earlier runs still on the deployment, with the
// cleanup command for each run.
import type { DeploymentConnection } from '../../coder/connection';
import { listLeftoverRuns } from '../cleanup/runResources';
import { errorMessage as message, type Lines } from './lines';

export async function checkLeftovers(connection: DeploymentConnection, lines: Lines): Promise<void> {
  try {
    const runs = await listLeftoverRuns(connection);
    if (runs.size === 0) lines.add('leftovers', 'pass', 'no scale-test users of earlier runs');
    else
      lines.add(
        'leftovers',
        'warn',
        `${[...runs.values()].reduce((sum, count) => sum + count, 0)} scale-test user(s) of ${runs.size} earlier run(s): ${[...runs.keys()].join(', ')}`,
        [...runs.keys()].map((runId) => `coder-scaletest cleanup --run-id ${runId}`).join('; '),
      );
  } catch (error) {
    lines.add('leftovers', 'skip', `cannot list users: ${message(error)}`);
  }
}
