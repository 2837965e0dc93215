// Workspaces and their builds (coderd/workspaces.go, coderd/workspacebuilds.go), with the
// two live streams: build logs (`?follow`) and the workspace watch socket.
import type { WebSocket } from 'ws';
import * as S from '../../coder/schemas';
import { canSee, visibleBuild, visibleWorkspace, workspaceByOwnerAndName } from '../access';
import { trackWebSocket, type ApiCall, type ApiHandlers, type SimContext, type UpgradeHandlers } from '../context';
import { forbidden, HttpError, needsWebSocket, notFound, validationFailed } from '../http/errors';
import { booleanQuery, page, paging, readJsonBody, searchTerms } from '../http/io';
import type { SimStore, SimWorkspace } from '../store';
import type { SimTemplateVersion } from '../templates';
import { nextAutostart } from '../autobuild';
import { organizationParam } from './organizations';
import { streamJobLogs } from '../jobLogs';

const NAME_PATTERN = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;

/**
 * The build's parameter values against the template version's parameters, as coderd's
 * wsbuilder.getParameters resolves them: the request's values, then the preset's; a required
 * parameter (no default) without one fails the request (400) before anything is created.
 */
function checkParameters(version: SimTemplateVersion, body: S.CreateWorkspaceRequest): void {
  let fromPreset: Record<string, string> = {};
  if (body.template_version_preset_id) {
    const preset = version.presets.find((candidate) => candidate.ID === body.template_version_preset_id);
    if (!preset) throw new HttpError(400, 'Invalid template version preset.', `preset "${body.template_version_preset_id}" not found`);
    fromPreset = Object.fromEntries(preset.Parameters.map((parameter) => [parameter.Name, parameter.Value]));
  }
  const given = new Map((body.rich_parameter_values ?? []).map((value) => [value.name, value.value]));
  for (const parameter of version.parameters) {
    const value = given.get(parameter.name) ?? fromPreset[parameter.name];
    if (value === undefined && parameter.required) {
      throw new HttpError(
        400,
        `Unable to validate parameter "${parameter.name}"`,
        `Parameter "${parameter.name}" is required but not provided`,
      );
    }
    if (value !== undefined && parameter.options.length > 0 && !parameter.options.some((option) => option.value === value)) {
      throw new HttpError(
        400,
        `Unable to validate parameter "${parameter.name}"`,
        `parameter value must match one of options: ${parameter.options.map((option) => option.value).join(', ')}`,
      );
    }
  }
}

async function createWorkspaceFor(call: ApiCall, userRef: string) {
  const { store } = call.sim;
  const target = store.users.find(userRef, call.user);
  if (!target) throw new HttpError(400, `"user" must be an existing uuid or username.`);
  if (!call.user!.owner && target.id !== call.user!.id) throw forbidden();
  const body = await readJsonBody(call.req, S.CreateWorkspaceRequest);
  if (!NAME_PATTERN.test(body.name) || body.name.length > 32 || body.name === 'new' || body.name === 'create') {
    throw validationFailed([{ field: 'name', detail: `Validation failed for tag "workspace_name" with value: "${body.name}"` }]);
  }
  if (!body.template_id === !body.template_version_id) {
    throw new HttpError(400, 'Exactly one of TemplateID or TemplateVersionID must be specified.');
  }
  const template = body.template_id ? store.catalog.templates.get(body.template_id) : undefined;
  const version = template ? store.catalog.activeVersion(template) : store.catalog.versions.get(body.template_version_id ?? '');
  if (!version?.templateId) {
    const field = body.template_id ? 'template_id' : 'template_version_id';
    throw new HttpError(400, `Template does not exist.`, undefined, [{ field, detail: 'template not found' }]);
  }
  checkParameters(version, body);
  if (store.findWorkspace(target, body.name)) {
    throw new HttpError(409, `Workspace "${body.name}" already exists.`, undefined, [
      { field: 'name', detail: 'This value is already in use and should be unique.' },
    ]);
  }
  return { status: 201, body: store.workspaceJson(store.createWorkspace(target, body.name, call.user!, version)) };
}

function filterWorkspaces(call: ApiCall, store: SimStore): SimWorkspace[] {
  let workspaces = [...store.workspaces.values()].filter((w) => !w.deleted && canSee(call.user, w));
  for (const term of searchTerms(call.url.searchParams.get('q') ?? '')) {
    const value = term.value.toLowerCase();
    const ownerMatches = (w: SimWorkspace) => (value === 'me' ? w.owner.id === call.user!.id : w.owner.username.toLowerCase() === value);
    if (!term.key && value.includes('/')) {
      const [ownerName, name] = value.split('/', 2) as [string, string];
      workspaces = workspaces.filter((w) => w.owner.username.toLowerCase() === ownerName && w.name.toLowerCase().includes(name));
    } else if (!term.key || term.key === 'name') workspaces = workspaces.filter((w) => w.name.toLowerCase().includes(value));
    else if (term.key === 'owner') workspaces = workspaces.filter(ownerMatches);
    else if (term.key === 'template')
      workspaces = workspaces.filter((w) => store.catalog.templates.get(w.templateId)?.name.toLowerCase() === value);
    else if (term.key === 'status') workspaces = workspaces.filter((w) => store.latestBuild(w).status === value);
    else
      throw new HttpError(400, 'Invalid workspace search query.', undefined, [
        { field: term.key, detail: `"${term.key}" is not a valid query param` },
      ]);
  }
  return workspaces.sort((a, b) => a.owner.username.localeCompare(b.owner.username) || a.name.localeCompare(b.name));
}

export const workspaceHandlers = {
  createUserWorkspace: async (call, params) => createWorkspaceFor(call, params.user!),
  createWorkspace: async (call, params) => {
    organizationParam(call.sim.store, params.organization!);
    return createWorkspaceFor(call, params.user!);
  },
  listWorkspaces: async (call) => {
    const workspaces = filterWorkspaces(call, call.sim.store);
    return {
      status: 200,
      body: {
        workspaces: page(workspaces, paging(call.url)).map((w) => call.sim.store.workspaceJson(w)),
        count: workspaces.length,
      } satisfies S.WorkspacesResponse,
    };
  },
  getWorkspace: async (call, params) => {
    const workspace = visibleWorkspace(call, params.workspace!, booleanQuery(call.url, 'include_deleted', 'deleted'));
    return { status: 200, body: call.sim.store.workspaceJson(workspace) };
  },
  getWorkspaceByOwnerAndName: async (call, params) => ({
    status: 200,
    body: call.sim.store.workspaceJson(workspaceByOwnerAndName(call, params.user!, params.workspacename!)),
  }),
  watchWorkspace: async () => {
    throw needsWebSocket();
  },
  // coderd/workspaces.go putWorkspaceAutostart: validWorkspaceSchedule (cron.Weekly), the
  // template must allow user autostart, next_start_at = NextAllowedAutostart(now); 204.
  updateWorkspaceAutostart: async (call, params) => {
    const workspace = visibleWorkspace(call, params.workspace!);
    if (!call.user!.owner && workspace.owner.id !== call.user!.id) throw forbidden();
    const body = await readJsonBody(call.req, S.UpdateWorkspaceAutostartRequest);
    const schedule = body.schedule ?? '';
    if (schedule === '') {
      workspace.autostartSchedule = undefined;
      workspace.nextStartAt = undefined;
    } else {
      let next: number | undefined;
      try {
        next = nextAutostart(Date.now(), schedule);
      } catch (error) {
        throw new HttpError(400, 'Invalid autostart schedule.', undefined, [{ field: 'schedule', detail: (error as Error).message }]);
      }
      workspace.autostartSchedule = schedule;
      workspace.nextStartAt = next === undefined ? undefined : new Date(next).toISOString();
    }
    return { status: 204, body: undefined };
  },
  listWorkspaceBuilds: async (call, params) => {
    const workspace = visibleWorkspace(call, params.workspace!, true);
    return { status: 200, body: [...workspace.builds].reverse().map((b) => call.sim.store.buildJson(b)) };
  },
  createBuild: async (call, params) => {
    const { store } = call.sim;
    const workspace = visibleWorkspace(call, params.workspace!);
    const body = await readJsonBody(call.req, S.CreateWorkspaceBuildRequest);
    if (store.isActive(store.latestBuild(workspace))) throw new HttpError(409, 'A workspace build is already active.');
    return { status: 201, body: store.buildJson(store.startBuild(workspace, body.transition, call.user!)) };
  },
  getBuild: async (call, params) => ({ status: 200, body: call.sim.store.buildJson(visibleBuild(call, params.workspacebuild!)) }),
  getBuildByNumber: async (call, params) => {
    const workspace = workspaceByOwnerAndName(call, params.user!, params.workspacename!);
    const build = workspace.builds[Number(params.buildnumber) - 1];
    if (!build) throw notFound();
    return { status: 200, body: call.sim.store.buildJson(build) };
  },
  cancelBuild: async (call, params) => {
    const build = visibleBuild(call, params.workspacebuild!);
    if (build.job.status === 'canceling') throw new HttpError(400, 'Job has already been marked as canceled!');
    if (!call.sim.store.isActive(build)) throw new HttpError(400, 'Job has already completed!');
    call.sim.store.cancelBuild(build);
    return { status: 200, body: { message: 'Job has been marked as canceled...' } satisfies S.Response };
  },
  buildLogs: async (call, params) => {
    const build = visibleBuild(call, params.workspacebuild!);
    if (call.url.searchParams.has('follow')) throw new HttpError(400, 'Follow requires a WebSocket upgrade.');
    const after = Number(call.url.searchParams.get('after') ?? 0);
    return { status: 200, body: build.logs.filter((entry) => entry.id > after) };
  },
} satisfies ApiHandlers;

/**
 * coderd's live workspace updates (coderd/workspaces.go watchWorkspace): a ping once
 * subscribed, then the workspace now and after every change, pings every 15 s. The
 * `workspaceEventDelayMs` fault delays each change's update (a lagging pubsub).
 */
function watchWorkspace(sim: SimContext, workspace: SimWorkspace, ws: WebSocket): void {
  const { store } = sim;
  const send = (event: S.ServerSentEvent) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
  };
  const sendWorkspace = () => send({ type: 'data', data: store.workspaceJson(workspace) });
  const onChange = () => {
    const delay = sim.faults.workspaceEventDelayMs ?? 0;
    if (delay > 0) setTimeout(sendWorkspace, delay).unref();
    else sendWorkspace();
  };
  send({ type: 'ping', data: null });
  sendWorkspace();
  store.events.on(`workspace:${workspace.id}`, onChange);
  // Go's ServerSentEvent has no omitempty: a ping carries "data": null.
  const ping = setInterval(() => send({ type: 'ping', data: null }), 15_000);
  ws.once('close', () => {
    clearInterval(ping);
    store.events.off(`workspace:${workspace.id}`, onChange);
  });
}

export const workspaceUpgrades = {
  buildLogs: (call, params, socket, head, path) => {
    const build = visibleBuild(call, params.workspacebuild!);
    trackWebSocket(call.sim, socket, path);
    const after = Number(call.url.searchParams.get('after') ?? 0) || 0;
    call.sim.apiSockets.handleUpgrade(call.req, socket, head, (ws) =>
      streamJobLogs(call.sim.store.events, build.id, build.logs, call.sim.store.isActive(build), ws, after),
    );
  },
  watchWorkspace: (call, params, socket, head, path) => {
    const workspace = visibleWorkspace(call, params.workspace!);
    trackWebSocket(call.sim, socket, path);
    call.sim.apiSockets.handleUpgrade(call.req, socket, head, (ws) => watchWorkspace(call.sim, workspace, ws));
  },
} satisfies UpgradeHandlers;
