// Provisioner daemons and jobs as coderd lists them (coderd/provisionerdaemons.go,
// coderd/provisionerjobs.go; queries GetProvisionerDaemonsWithStatusByOrganization and
// GetProvisionerJobsByOrganizationAndStatusWithQueuePositionAndProvisioner). Rows a caller may
// not read are filtered out, as coderd's fetchWithPostFilter does: a member sees none.
import type { ApiHandlers } from '../context';
import { HttpError } from '../http/errors';
import type { SimDaemon } from '../provisioners';
import type { SimBuild } from '../store';
import { organizationParam } from './organizations';

/** codersdk.ProvisionerKeyIDBuiltIn / ProvisionerKeyNameBuiltIn: coderd's in-process daemons. */
const BUILT_IN_KEY_ID = '00000000-0000-0000-0000-000000000001';
const BUILT_IN_KEY_NAME = 'built-in';
/** Jobs without tags of their own get these (provisionersdk.MutateTags). */
const ORGANIZATION_TAGS = { owner: '', scope: 'organization' };
const JOB_STATUSES = ['pending', 'running', 'succeeded', 'canceling', 'canceled', 'failed', 'unknown'];

function limitOf(url: URL, fallback: number): number {
  const raw = url.searchParams.get('limit');
  if (raw === null || raw === '') return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 0) {
    throw new HttpError(400, 'Invalid query parameters.', undefined, [
      { field: 'limit', detail: `Query param "limit" must be a valid integer (${raw})` },
    ]);
  }
  return limit;
}

export const provisionerHandlers = {
  listProvisionerDaemons: async ({ sim, url, user }, params) => {
    const organization = organizationParam(sim.store, params.organization!);
    const limit = limitOf(url, 50);
    const { provisioners, store } = sim;
    const jobOf = (entry: SimDaemon['previous']) => {
      if (!entry) return null;
      const template = store.templateOfJob(entry.job.id);
      return {
        id: entry.job.id,
        status: entry.job.status,
        template_name: template?.name ?? '',
        template_icon: template?.icon ?? '',
        template_display_name: template?.display_name ?? '',
      };
    };
    const daemons = user!.owner
      ? provisioners.list().map((daemon) => ({
          id: daemon.id,
          organization_id: organization.id,
          key_id: BUILT_IN_KEY_ID,
          created_at: daemon.createdAt,
          last_seen_at: new Date(daemon.lastSeenAt).toISOString(),
          name: daemon.name,
          version: sim.buildVersion,
          api_version: '1.6',
          provisioners: ['echo', 'terraform'],
          tags: ORGANIZATION_TAGS,
          key_name: BUILT_IN_KEY_NAME,
          status: provisioners.status(daemon),
          current_job: jobOf(daemon.current),
          previous_job: jobOf(daemon.previous),
        }))
      : [];
    return { status: 200, body: limit > 0 ? daemons.slice(0, limit) : daemons };
  },
  listProvisionerJobs: async ({ sim, url, user }, params) => {
    const organization = organizationParam(sim.store, params.organization!);
    const limit = limitOf(url, 50);
    const statuses = (url.searchParams.get('status') ?? '').split(',').filter(Boolean);
    const unknown = statuses.find((status) => !JOB_STATUSES.includes(status));
    if (unknown)
      throw new HttpError(400, 'Invalid query parameters.', undefined, [
        { field: 'status', detail: `"${unknown}" is not a valid job status` },
      ]);
    const { store, provisioners } = sim;
    const builds = user!.owner ? store.allBuilds() : [];
    // coderd: the global rank among pending jobs (humans first, then oldest), newest jobs first.
    const order = provisioners.ordered().map((entry) => entry.job);
    const available = provisioners.online().map((daemon) => daemon.id);
    const jobs = builds
      .filter((build) => statuses.length === 0 || statuses.includes(build.job.status))
      .sort((a, b) => b.job.createdAt.localeCompare(a.job.createdAt) || b.number - a.number)
      .map((build: SimBuild) => {
        const position = order.indexOf(build.job) + 1;
        const worker = build.job.workerId ? provisioners.list().find((d) => d.id === build.job.workerId) : undefined;
        return {
          ...store.buildJson(build).job,
          queue_position: position,
          queue_size: order.length,
          organization_id: organization.id,
          ...(build.job.status === 'pending' ? { available_workers: available } : {}),
          ...(worker ? { worker_name: worker.name } : {}),
        };
      });
    return { status: 200, body: limit > 0 ? jobs.slice(0, limit) : jobs };
  },
} satisfies ApiHandlers;
