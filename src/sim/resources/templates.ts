// Pushing a template, as coderd takes one: the archive (coderd/files.go postFile), a template
// version with its import job and logs (coderd/templateversions.go), the template or its new
// active version (coderd/templates.go postTemplateByOrganization, patchActiveTemplateVersion).
// Status codes and messages are coderd's.
import * as crypto from 'crypto';
import type * as http from 'http';
import * as S from '../../coder/schemas';
import { trackWebSocket, type ApiCall, type ApiHandlers, type SimContext, type UpgradeHandlers } from '../context';
import { forbidden, HttpError, notFound } from '../http/errors';
import { readJsonBody } from '../http/io';
import type { SimStore } from '../store';
import { MAX_FILE_BYTES, type SimTemplateVersion } from '../templates';
import { organizationParam } from './organizations';
import { jobTimes } from '../bodies';
import { streamJobLogs } from '../jobLogs';

const TAR = 'application/x-tar';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Creating templates and versions is for owners (and template admins, which the simulator has none of). */
function requireTemplateAdmin(call: ApiCall): void {
  if (!call.user?.owner) throw forbidden();
}

async function readRawBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // coderd reads through http.MaxBytesReader and answers 400 with its error.
    if (size > MAX_FILE_BYTES) throw new HttpError(400, 'Failed to read file from request.', 'http: request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function version(store: SimStore, id: string): SimTemplateVersion {
  const found = store.catalog.versions.get(id);
  if (!found) throw notFound();
  return found;
}

export function templateVersionBody(sim: SimContext, version: SimTemplateVersion): Record<string, unknown> {
  const { store, provisioners } = sim;
  const job = version.job;
  const queue = provisioners.queueOf(job);
  const template = version.templateId ? store.catalog.templates.get(version.templateId) : undefined;
  return {
    id: version.id,
    // codersdk.TemplateVersion's template_id is a pointer to a NullUUID's UUID: zero when detached.
    template_id: version.templateId ?? NIL_UUID,
    organization_id: version.organizationId,
    created_at: version.createdAt,
    updated_at: version.updatedAt,
    name: version.name,
    message: version.message,
    job: {
      ...jobTimes(job),
      ...(job.errorCode ? { error_code: job.errorCode } : {}),
      status: job.status,
      file_id: job.fileId,
      tags: { scope: 'organization', owner: '' },
      queue_position: queue.position,
      queue_size: queue.size,
      organization_id: version.organizationId,
      initiator_id: version.createdBy.id,
      input: { template_version_id: version.id },
      type: 'template_version_import',
      metadata: {
        template_version_name: version.name,
        template_id: template?.id ?? NIL_UUID,
        template_name: template?.name ?? '',
        template_display_name: template?.display_name ?? '',
        template_icon: template?.icon ?? '',
      },
      logs_overflowed: false,
      available_workers: [],
    },
    readme: version.readme,
    created_by: { id: version.createdBy.id, username: version.createdBy.username, avatar_url: '' },
    archived: version.archived,
    warnings: [],
    matched_provisioners: provisioners.matched(),
  };
}

/** What coderd reports for a version's resources: one resource per agent, agents never connected. */
export function resourcesBody(version: SimTemplateVersion): S.WorkspaceResource[] {
  return version.agents.map((agent, index) => {
    const resourceId = uuidFrom(version.id, `resource/${index}`);
    const agentId = uuidFrom(version.id, `agent/${agent.name}`);
    return {
      id: resourceId,
      created_at: version.job.completedAt ?? version.createdAt,
      job_id: version.job.id,
      workspace_transition: 'start',
      type: 'docker_container',
      name: 'dev',
      hide: false,
      icon: '',
      metadata: [],
      daily_cost: 0,
      agents: [
        {
          id: agentId,
          created_at: version.createdAt,
          updated_at: version.createdAt,
          name: agent.name,
          status: 'connecting',
          lifecycle_state: 'created',
          resource_id: resourceId,
          architecture: 'amd64',
          environment_variables: {},
          operating_system: 'linux',
          logs_length: 0,
          logs_overflowed: false,
          version: '',
          api_version: '',
          apps: agent.apps.map((app, appIndex) => ({
            id: uuidFrom(version.id, `app/${agent.name}/${appIndex}`),
            url: '',
            external: false,
            slug: app.slug,
            display_name: app.displayName,
            icon: '',
            subdomain: app.subdomain,
            sharing_level: 'owner',
            healthcheck: { url: '', interval: 0, threshold: 0 },
            health: 'disabled',
            hidden: false,
            open_in: 'slim-window',
          })),
          connection_timeout_seconds: 120,
          troubleshooting_url: 'https://coder.com/docs/templates/troubleshooting',
          subsystems: [],
          health: { healthy: false, reason: 'agent has not yet connected' },
          display_apps: ['vscode', 'vscode_insiders', 'web_terminal', 'ssh_helper', 'port_forwarding_helper'],
          log_sources: [],
          scripts: [],
          startup_script_behavior: 'non-blocking',
        },
      ],
    } as unknown as S.WorkspaceResource;
  });
}

function uuidFrom(seed: string, what: string): string {
  // Stable ids derived from the version: the same resource reads the same on every request.
  const hex = crypto.createHash('sha1').update(`${seed}/${what}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const templateHandlers = {
  uploadFile: async (call) => {
    const contentType = call.req.headers['content-type'] ?? '';
    if (contentType !== TAR && contentType !== 'application/zip') {
      throw new HttpError(400, `Unsupported content type header "${contentType}".`);
    }
    if (contentType !== TAR) throw new HttpError(400, 'Incomplete .zip archive file.', 'the simulator takes tar archives only');
    const data = await readRawBody(call.req);
    const { file, existed } = call.sim.store.catalog.upload(call.user!, contentType, data);
    return { status: existed ? 200 : 201, body: { hash: file.id } satisfies S.UploadResponse };
  },
  createTemplateVersion: async (call, params) => {
    organizationParam(call.sim.store, params.organization!);
    requireTemplateAdmin(call);
    const body = await readJsonBody(call.req, S.CreateTemplateVersionRequest);
    const { catalog } = call.sim.store;
    const created = catalog.createVersion(call.user!, body);
    // The import job waits in the provisioners' queue like a build; the daemon reads the archive.
    call.sim.provisioners.submit(created.job, {
      kind: 'template_version_import',
      initiatorId: call.user!.id,
      durationMs: catalog.importDurationMs(),
      onStart: () => catalog.startImport(created),
      onFinish: () => catalog.finishImport(created, body.user_variable_values ?? []),
    });
    return { status: 201, body: templateVersionBody(call.sim, created) };
  },
  getTemplateVersion: async (call, params) => ({
    status: 200,
    body: templateVersionBody(call.sim, version(call.sim.store, params.templateversion!)),
  }),
  cancelTemplateVersion: async (call, params) => {
    requireTemplateAdmin(call);
    const canceled = version(call.sim.store, params.templateversion!);
    call.sim.store.catalog.cancel(canceled);
    call.sim.provisioners.cancel(canceled.job);
    return { status: 200, body: { message: 'Job has been marked as canceled...' } satisfies S.Response };
  },
  templateVersionLogs: async (call, params) => {
    const found = version(call.sim.store, params.templateversion!);
    if (call.url.searchParams.has('follow')) throw new HttpError(400, 'Follow requires a WebSocket upgrade.');
    const after = Number(call.url.searchParams.get('after') ?? 0);
    return { status: 200, body: found.logs.filter((entry) => entry.id > after) };
  },
  templateVersionExternalAuth: async (call, params) => {
    const found = version(call.sim.store, params.templateversion!);
    // The simulator configures no external auth providers, so any the template names are unknown.
    const missing = found.externalAuth[0];
    if (missing) {
      throw new HttpError(
        404,
        `The template version references a Git auth provider "${missing.id}" that no longer exists.`,
        "You'll need to update the template version to use a different provider.",
      );
    }
    return { status: 200, body: [] };
  },
  createTemplate: async (call, params) => {
    organizationParam(call.sim.store, params.organization!);
    requireTemplateAdmin(call);
    const body = await readJsonBody(call.req, S.CreateTemplateRequest);
    return { status: 201, body: call.sim.store.catalog.createTemplate(call.user!, body) };
  },
  updateActiveTemplateVersion: async (call, params) => {
    const template = call.sim.store.catalog.templates.get(params.template!);
    if (!template) throw notFound();
    requireTemplateAdmin(call);
    const body = await readJsonBody(call.req, S.UpdateActiveTemplateVersion);
    call.sim.store.catalog.promote(template, body.id);
    return { status: 200, body: { message: 'Updated the active template version!' } satisfies S.Response };
  },
} satisfies ApiHandlers;

export const templateUpgrades = {
  templateVersionLogs: (call, params, socket, head, path) => {
    const followed = version(call.sim.store, params.templateversion!);
    trackWebSocket(call.sim, socket, path);
    const after = Number(call.url.searchParams.get('after') ?? 0) || 0;
    call.sim.apiSockets.handleUpgrade(call.req, socket, head, (ws) =>
      streamJobLogs(call.sim.store.events, followed.id, followed.logs, !followed.job.completedAt, ws, after),
    );
  },
} satisfies UpgradeHandlers;
