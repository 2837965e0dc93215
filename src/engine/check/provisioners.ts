// Lines "provisioners" and "queue": will the run's builds find provisioner daemons, or queue
// behind too few of them or behind jobs already waiting.
import type { CoderClient } from '../../coder/client';
import type { Plan } from '../plan/plan';
import { errorMessage as message, type Lines } from './lines';

export async function checkProvisioners(client: CoderClient, plan: Plan, organizationId: string | undefined, lines: Lines): Promise<void> {
  const prepareConcurrency = plan.concurrency.prepare;
  if (!organizationId) {
    lines.add('provisioners', 'skip', 'no organization/template to build in');
    lines.add('queue', 'skip', 'no organization/template to build in');
  } else {
    try {
      const daemons = await client.provisionerDaemons(organizationId);
      const online = daemons.filter((daemon) => daemon.status !== 'offline' && daemon.provisioners.includes('terraform'));
      const tags = `tags ${JSON.stringify({ scope: 'organization', owner: '' })}`;
      if (online.length === 0) {
        lines.add(
          'provisioners',
          'fail',
          `no online provisioner daemon (${daemons.length} listed${daemons.length ? ', all offline' : ''}): no workspace would build`,
          `start provisioner daemons with ${tags} (coderd's built-in ones: CODER_PROVISIONER_DAEMONS; external: coder provisioner start)`,
        );
      } else if (online.length < prepareConcurrency) {
        lines.add(
          'provisioners',
          'warn',
          `${online.length} online daemon(s) for a prepare concurrency of ${prepareConcurrency}: builds will queue (Coder's reference runs 50 for 2000 users)`,
          `run at least ${prepareConcurrency} provisioner daemons, or lower concurrency.prepare`,
        );
      } else lines.add('provisioners', 'pass', `${online.length} online daemon(s) for a prepare concurrency of ${prepareConcurrency}`);
    } catch (error) {
      lines.add(
        'provisioners',
        'warn',
        `cannot list provisioner daemons: ${message(error)}`,
        'coderd runs 3 built-in daemons by default; older releases list daemons only with an Enterprise licence',
      );
    }
    try {
      const pending = await client.provisionerJobs(organizationId, { status: 'pending', limit: 100 });
      if (pending.length === 0) lines.add('queue', 'pass', 'no job is waiting for a provisioner');
      else
        lines.add(
          'queue',
          'warn',
          `${pending.length}${pending.length === 100 ? '+' : ''} job(s) pending now: the run's builds queue behind them`,
          'wait for the queue to drain, or add provisioners',
        );
    } catch (error) {
      lines.add('queue', 'skip', `cannot list provisioner jobs: ${message(error)}`);
    }
  }
}
