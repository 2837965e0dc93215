// Conformance: drives every API route of the simulated deployment with plain HTTP (no client
// code in between) and validates every JSON body it serves against the project's schemas,
// which `npm run check:swagger` in turn checks against Coder's spec.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import { createTar } from 'nanotar';
import * as path from 'path';
import WebSocket from 'ws';
import type { TSchema } from '@sinclair/typebox';
import { apiRoutes, matchesSchema, responseSchemas, routePath, type RouteName } from '../../../src/coder';
import * as S from '../../../src/coder/schemas';
import { SIM_BUILD_VERSION, startSimDeployment, type SimDeployment } from '../../../src/sim';
import { STRONG_PASSWORD as PASSWORD } from '../../support/simFixture';
import { coderdShapeProblems } from '../../support/coderdTypes';

interface HitOptions {
  params?: Record<string, string | number>;
  query?: Record<string, string>;
  body?: unknown;
  token?: string;
  cookie?: boolean;
}

describe('simulated deployment conformance', () => {
  let sim: SimDeployment;
  const exercised = new Set<RouteName>();
  const validated: string[] = [];

  before(async () => {
    sim = await startSimDeployment({
      buildDurationMs: 120,
      agentConnectDelayMs: 20,
      deploymentStatsIntervalMs: 50,
      templateParameters: [{ name: 'size', default: 'small', options: ['small', 'large'] }],
      templatePresets: [{ name: 'large', parameters: { size: 'large' } }],
    });
  });
  after(async () => sim.close());

  /** Checks a body against our schema (what the client relies on) and coderd's full type (what coderd sends). */
  function check(schema: TSchema, body: unknown, what: string): void {
    const result = matchesSchema(schema, body);
    assert.ok(result.ok, `${what}: ${result.ok ? '' : result.error}\n${JSON.stringify(body).slice(0, 400)}`);
    const title: string | undefined = schema.title ?? (schema.items as TSchema | undefined)?.title;
    assert.ok(title, `${what}: the schema names no coderd type`);
    const type = title.replace(/^codersdk\./, '');
    const items = Array.isArray(body) ? body : [body];
    const problems = items.flatMap((item) => coderdShapeProblems(type, item));
    assert.deepStrictEqual(problems, [], `${what}: differs from coderd's ${type}`);
    validated.push(what);
  }

  /** One request; checks the build-version header and validates the body (success or error). */
  async function hit(name: RouteName, options: HitOptions = {}): Promise<{ status: number; body: any }> {
    const route = apiRoutes[name];
    const url = new URL(sim.url + routePath(name, options.params));
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? sim.ownerToken : options.token;
    if (token && options.cookie) headers.cookie = `coder_session_token=${token}`;
    else if (token) headers['Coder-Session-Token'] = token;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, {
      method: route.method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    assert.strictEqual(response.headers.get('x-coder-build-version'), SIM_BUILD_VERSION);
    const text = await response.text();
    const body = text ? JSON.parse(text) : undefined;
    const what = `${route.method} ${route.path} → ${response.status}`;
    if (response.ok) {
      const schema: TSchema | null = responseSchemas[name];
      if (schema) check(schema, body, what);
      exercised.add(name);
    } else {
      check(S.Response, body, what);
    }
    return { status: response.status, body };
  }

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 200; i++) {
      const value = await read();
      if (done(value)) return value;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('condition not reached');
  }

  it('serves coderd-shaped bodies on every route, errors included', async () => {
    assert.strictEqual((await hit('buildInfo', { token: '' })).status, 200);
    assert.strictEqual((await hit('getUser', { params: { user: 'me' }, token: '' })).status, 401);
    assert.strictEqual((await hit('login', { body: { email: 'nobody@x.io', password: 'x' }, token: '' })).status, 401);
    assert.strictEqual((await hit('login', { body: { email: 'nobody@x.io' }, token: '' })).status, 400);
    assert.strictEqual((await hit('getUser', { params: { user: 'me' } })).body.username, 'admin');

    const suffix = crypto.randomBytes(3).toString('hex');
    const member = { email: `m-${suffix}@scaletest.local`, username: `scaletest-${suffix}`, password: PASSWORD, login_type: 'password' };
    const created = await hit('createUser', { body: { ...member, organization_ids: [sim.organizationId] } });
    assert.strictEqual(
      (await hit('createUser', { body: { ...member, username: 'x', email: 'x@x.io' } })).status,
      400,
      'organization_ids required',
    );
    assert.strictEqual(created.status, 201);
    const invalid = await hit('createUser', { body: { email: 'bad', username: '' } });
    assert.strictEqual(invalid.status, 400);
    assert.ok(invalid.body.validations.length >= 1);
    assert.strictEqual((await hit('createUser', { body: { ...member, organization_ids: [sim.organizationId] } })).status, 409);
    const login = await hit('login', { body: { email: member.email, password: PASSWORD }, token: '' });
    assert.strictEqual(login.status, 201);
    const memberToken: string = login.body.session_token;
    assert.strictEqual((await hit('listUsers', { query: { q: 'scaletest-', limit: '10' } })).body.count, 1);
    assert.strictEqual((await hit('listUsers', { query: { limit: '-1' } })).status, 400);
    assert.strictEqual((await hit('getUser', { params: { user: created.body.id } })).status, 200);
    assert.strictEqual((await hit('createToken', { params: { user: 'me' }, body: { token_name: 'x' }, token: memberToken })).status, 201);
    assert.ok((await hit('tokenConfig', { params: { user: 'me' }, token: memberToken })).body.max_token_lifetime > 0);

    assert.strictEqual((await hit('listOrganizations')).body.length, 1);
    assert.strictEqual((await hit('getOrganization', { params: { organization: sim.organizationId } })).status, 200);
    const templates = (await hit('listTemplates', { params: { organization: sim.organizationId } })).body;
    assert.strictEqual(
      (await hit('getTemplateByName', { params: { organization: sim.organizationId, templatename: templates[0].name } })).status,
      200,
    );
    assert.strictEqual((await hit('listAllTemplates')).status, 200);
    assert.strictEqual((await hit('getTemplate', { params: { template: sim.templateId } })).status, 200);
    assert.strictEqual((await hit('getTemplate', { params: { template: crypto.randomUUID() } })).status, 404);
    const version = { templateversion: templates[0].active_version_id };
    assert.strictEqual((await hit('templateVersionResources', { params: version })).body[0].agents[0].name, 'main');
    assert.strictEqual((await hit('templateVersionRichParameters', { params: version })).body[0].required, false);
    assert.strictEqual((await hit('templateVersionPresets', { params: version })).body[0].Name, 'large');
    assert.strictEqual((await hit('templateVersionPresets', { params: { templateversion: crypto.randomUUID() } })).status, 404);
    assert.strictEqual((await hit('regions')).body.regions[0].name, 'primary');
    assert.strictEqual((await hit('regions', { token: '' })).status, 401);

    // The member creates its own workspace, authenticated by cookie like a browser.
    const createWorkspace = (name: string) =>
      hit('createWorkspace', {
        params: { organization: sim.organizationId, user: 'me' },
        body: { name, template_id: sim.templateId },
        token: memberToken,
        cookie: true,
      });
    const workspace = (await createWorkspace(`ws-${suffix}`)).body;
    assert.strictEqual((await createWorkspace(`ws-${suffix}`)).status, 409);
    assert.strictEqual((await createWorkspace('Not valid!')).status, 400);
    const buildId: string = workspace.latest_build.id;

    // Follow the build logs over WebSocket (token as query parameter): one log JSON per text
    // frame, closed normally when the job ends.
    const follow = (query: string) =>
      new Promise<{ id: number }[]>((resolve, reject) => {
        const received: { id: number }[] = [];
        const path = routePath('buildLogs', { workspacebuild: buildId });
        const socket = new WebSocket(`${sim.url.replace('http', 'ws')}${path}?follow&coder_session_token=${memberToken}${query}`);
        socket.on('message', (data, isBinary) => {
          assert.strictEqual(isBinary, false);
          received.push(JSON.parse(data.toString()));
        });
        socket.on('close', (code) => (code === 1000 ? resolve(received) : reject(new Error(`closed with ${code}`))));
        socket.on('error', reject);
      });
    const frames = await follow('');
    assert.ok(frames.length >= 3);
    frames.forEach((frame, i) => check(S.ProvisionerJobLog, frame, `log frame ${i}`));
    assert.deepStrictEqual(
      (await follow(`&after=${frames[1]!.id}`)).map((f) => f.id),
      frames.slice(2).map((f) => f.id),
    );
    assert.strictEqual((await hit('buildLogs', { params: { workspacebuild: buildId } })).body.length, frames.length);

    const ready = await until(
      () => hit('getWorkspace', { params: { workspace: workspace.id } }),
      (r) => r.body.latest_build.resources[0]?.agents[0]?.status === 'connected',
    );
    const agentId: string = ready.body.latest_build.resources[0].agents[0].id;
    assert.strictEqual((await hit('listWorkspaces', { query: { q: `owner:${member.username}` } })).body.count, 1);
    assert.strictEqual((await hit('listWorkspaces', { query: { q: 'bogus:1' } })).status, 400);
    assert.strictEqual(
      (await hit('getWorkspaceByOwnerAndName', { params: { user: member.username, workspacename: workspace.name } })).status,
      200,
    );
    assert.strictEqual((await hit('listWorkspaceBuilds', { params: { workspace: workspace.id } })).body.length, 1);
    assert.strictEqual((await hit('getBuild', { params: { workspacebuild: buildId } })).body.job.status, 'succeeded');
    assert.strictEqual(
      (await hit('getBuildByNumber', { params: { user: member.username, workspacename: workspace.name, buildnumber: 1 } })).status,
      200,
    );
    assert.strictEqual((await hit('cancelBuild', { params: { workspacebuild: buildId } })).status, 400);
    // Another member may not see this workspace.
    assert.strictEqual((await hit('getWorkspace', { params: { workspace: workspace.id }, token: await otherMemberToken() })).status, 404);

    // The web terminal upgrade reaches the agent; the live session shows in deployment stats.
    const pty = new WebSocket(
      `${sim.url.replace('http', 'ws')}${routePath('agentPty', { workspaceagent: agentId })}?reconnect=${crypto.randomUUID()}&width=80&height=24&command=bash`,
      { headers: { 'Coder-Session-Token': memberToken } },
    );
    await new Promise<void>((resolve, reject) => {
      pty.once('open', () => resolve());
      pty.once('error', reject);
    });
    exercised.add('agentPty');
    const withSession = await until(
      () => hit('deploymentStats'),
      (r) => r.body.session_count.reconnecting_pty === 1,
    );
    assert.strictEqual(withSession.body.workspaces.running, 1);
    pty.close();
    await until(
      () => hit('deploymentStats'),
      (r) => r.body.session_count.reconnecting_pty === 0,
    );
    assert.strictEqual((await hit('deploymentStats', { token: memberToken })).status, 403);
    assert.strictEqual((await hit('appHost')).body.host, '');

    assert.strictEqual((await hit('deleteUser', { params: { user: created.body.id } })).status, 417, 'user still has a workspace');
    // Live updates: the workspace now, then again on every change (here: the delete build).
    const watchFrames: { type: string; data?: { latest_build: { transition: string; status: string } } }[] = [];
    const watch = new WebSocket(`${sim.url.replace('http', 'ws')}${routePath('watchWorkspace', { workspace: workspace.id })}`, {
      headers: { 'Coder-Session-Token': memberToken },
    });
    watch.on('message', (data) => watchFrames.push(JSON.parse(data.toString())));
    await until(
      async () => watchFrames.length,
      (count) => count >= 2,
    );
    exercised.add('watchWorkspace');
    const deletion = await hit('createBuild', { params: { workspace: workspace.id }, body: { transition: 'delete' } });
    assert.strictEqual(deletion.status, 201);
    assert.strictEqual((await hit('createBuild', { params: { workspace: workspace.id }, body: { transition: 'bogus' } })).status, 400);
    await until(
      () => hit('getBuild', { params: { workspacebuild: deletion.body.id } }),
      (r) => r.body.job.status === 'succeeded',
    );
    assert.strictEqual((await hit('getWorkspace', { params: { workspace: workspace.id } })).status, 410);
    await until(
      async () => watchFrames.at(-1)?.data?.latest_build.status,
      (status) => status === 'deleted',
    );
    watch.close();
    watchFrames.forEach((frame, i) => {
      check(S.ServerSentEvent, frame, `watch frame ${i}`);
      if (frame.type === 'data') check(S.Workspace, frame.data, `watch frame ${i} data`);
    });
    // coderd pings once subscribed, then sends the workspace as it is (watchWorkspace).
    assert.strictEqual(watchFrames[0]!.type, 'ping');
    assert.strictEqual(watchFrames[1]!.data!.latest_build.transition, 'start');
    assert.strictEqual(
      (await hit('getWorkspace', { params: { workspace: workspace.id }, query: { include_deleted: 'true' } })).status,
      200,
    );

    // A long build, canceled.
    sim.setFaults({ buildDurationMs: 10_000 });
    const slow = (await createWorkspace(`slow-${suffix}`)).body;
    assert.strictEqual((await hit('cancelBuild', { params: { workspacebuild: slow.latest_build.id } })).status, 200);
    sim.setFaults({});
    await until(
      () => hit('getBuild', { params: { workspacebuild: slow.latest_build.id } }),
      (r) => r.body.job.status === 'canceled',
    );

    // The current route (coderd's frontend uses it); the organization-member one is deprecated.
    const viaUserRoute = await hit('createUserWorkspace', {
      params: { user: 'me' },
      body: { name: `u-${suffix}`, template_id: sim.templateId },
      token: memberToken,
    });
    assert.strictEqual(viaUserRoute.status, 201);
    assert.strictEqual(viaUserRoute.body.owner_name, member.username);

    // Autostart, provisioner daemons and jobs, the dynamic-parameters form.
    assert.strictEqual(
      (
        await hit('updateWorkspaceAutostart', {
          params: { workspace: viaUserRoute.body.id },
          body: { schedule: '30 9 * * 1-5' },
          token: memberToken,
        })
      ).status,
      204,
    );
    assert.strictEqual(
      (
        await hit('updateWorkspaceAutostart', {
          params: { workspace: viaUserRoute.body.id },
          body: { schedule: '30 9 1 * *' },
          token: memberToken,
        })
      ).status,
      400,
    );
    assert.ok((await hit('listProvisionerDaemons', { params: { organization: sim.organizationId } })).body.length > 0);
    assert.ok((await hit('listProvisionerJobs', { params: { organization: sim.organizationId }, query: { limit: '5' } })).body.length > 0);
    assert.strictEqual(
      (await hit('listProvisionerJobs', { params: { organization: sim.organizationId }, query: { status: 'bogus' } })).status,
      400,
    );
    const form = await new Promise<unknown>((resolve, reject) => {
      const path = routePath('dynamicParameters', { templateversion: templates[0].active_version_id });
      const socket = new WebSocket(`${sim.url.replace('http', 'ws')}${path}`, { headers: { 'Coder-Session-Token': memberToken } });
      socket.once('message', (data) => {
        resolve(JSON.parse(data.toString()));
        socket.close();
      });
      socket.once('error', reject);
    });
    check(S.DynamicParametersResponse, form, 'dynamic parameters frame');
    exercised.add('dynamicParameters');
    await pushTemplate(memberToken);

    // AGPL coderd has no entitlements route; an enterprise one answers with the licence's user limit.
    assert.strictEqual((await hit('entitlements')).status, 404);
    const licensed = await startSimDeployment({ licence: { userLimit: 25 } });
    try {
      const response = await fetch(`${licensed.url}/api/v2/entitlements`, { headers: { 'Coder-Session-Token': licensed.ownerToken } });
      assert.strictEqual(response.status, 200);
      const entitlements = (await response.json()) as { features: { user_limit: { limit: number; actual: number } } };
      check(S.Entitlements, entitlements, 'GET /entitlements → 200');
      assert.deepStrictEqual([entitlements.features.user_limit.limit, entitlements.features.user_limit.actual], [25, 1]);
      exercised.add('entitlements');
    } finally {
      await licensed.close();
    }

    const deletable = await hit('createUser', {
      body: { email: `d-${suffix}@x.io`, username: `d-${suffix}`, password: PASSWORD, organization_ids: [sim.organizationId] },
    });
    assert.strictEqual((await hit('deleteUser', { params: { user: deletable.body.id } })).status, 200);

    assert.deepStrictEqual(
      Object.keys(apiRoutes).filter((name) => !exercised.has(name as RouteName)),
      [],
      'every API route was exercised successfully',
    );
    assert.ok(validated.length > 40);
  });

  /** Template push as coderd takes it: archive, version, import logs, template, promotion. */
  async function pushTemplate(memberToken: string): Promise<void> {
    const archive = Buffer.from(
      createTar([{ name: 'main.tf', data: fs.readFileSync(path.join(__dirname, '../../../templates/docker/main.tf'), 'utf8') }]),
    );
    const upload = (data: Buffer, contentType = 'application/x-tar', token = sim.ownerToken) =>
      fetch(`${sim.url}/api/v2/files`, {
        method: 'POST',
        headers: { 'Coder-Session-Token': token, 'Content-Type': contentType },
        body: new Uint8Array(data),
      });
    const first = await upload(archive);
    assert.strictEqual(first.status, 201);
    const fileId: string = ((await first.json()) as { hash: string }).hash;
    const again = await upload(archive);
    assert.strictEqual(again.status, 200, 'the same bytes from the same user are the same file');
    check(S.UploadResponse, await again.json(), 'POST /files → 200');
    exercised.add('uploadFile');
    const refused = await upload(archive, 'application/json');
    assert.strictEqual(refused.status, 400);
    check(S.Response, await refused.json(), 'POST /files → 400');

    const organization = sim.organizationId;
    const request = { storage_method: 'file', file_id: fileId, provisioner: 'terraform', tags: {} };
    assert.strictEqual(
      (await hit('createTemplateVersion', { params: { organization }, body: { ...request, file_id: crypto.randomUUID() } })).status,
      404,
    );
    assert.strictEqual((await hit('createTemplateVersion', { params: { organization }, body: request, token: memberToken })).status, 403);
    const version = (await hit('createTemplateVersion', { params: { organization }, body: request })).body;
    assert.strictEqual(version.job.status, 'pending');
    const logs = await new Promise<unknown[]>((resolve, reject) => {
      const received: unknown[] = [];
      const socket = new WebSocket(
        `${sim.url.replace('http', 'ws')}${routePath('templateVersionLogs', { templateversion: version.id })}?follow`,
        {
          headers: { 'Coder-Session-Token': sim.ownerToken },
        },
      );
      socket.on('message', (data) => received.push(JSON.parse(data.toString())));
      socket.on('close', (code) => (code === 1000 ? resolve(received) : reject(new Error(`closed with ${code}`))));
      socket.on('error', reject);
    });
    assert.ok(logs.length >= 3);
    logs.forEach((frame, i) => check(S.ProvisionerJobLog, frame, `import log frame ${i}`));
    const imported = await until(
      () => hit('getTemplateVersion', { params: { templateversion: version.id } }),
      (r) => r.body.job.status === 'succeeded',
    );
    assert.strictEqual(imported.body.job.file_id, fileId);
    assert.strictEqual((await hit('templateVersionLogs', { params: { templateversion: version.id } })).body.length, logs.length);
    const resources = (await hit('templateVersionResources', { params: { templateversion: version.id } })).body;
    assert.deepStrictEqual(
      resources[0].agents[0].apps.map((app: { slug: string; subdomain: boolean }) => [app.slug, app.subdomain]),
      [
        ['wsec', true],
        ['wsra', true],
        ['wsdi', true],
      ],
    );
    assert.deepStrictEqual((await hit('templateVersionExternalAuth', { params: { templateversion: version.id } })).body, []);
    const name = `pushed-${crypto.randomBytes(3).toString('hex')}`;
    const template = (await hit('createTemplate', { params: { organization }, body: { name, template_version_id: version.id } })).body;
    assert.strictEqual(template.active_version_id, version.id);
    assert.strictEqual(
      (await hit('createTemplate', { params: { organization }, body: { name, template_version_id: version.id } })).status,
      409,
    );

    // A second version of it: canceled while pending, then one that is promoted.
    sim.setFaults({ buildDurationMs: 10_000 });
    const slow = (await hit('createTemplateVersion', { params: { organization }, body: { ...request, template_id: template.id } })).body;
    assert.strictEqual((await hit('cancelTemplateVersion', { params: { templateversion: slow.id } })).status, 200);
    sim.setFaults({});
    const promote = (id: string) => hit('updateActiveTemplateVersion', { params: { template: template.id }, body: { id } });
    assert.strictEqual((await promote(slow.id)).status, 403, 'only a version whose import succeeded can be promoted');
    const next = (await hit('createTemplateVersion', { params: { organization }, body: { ...request, template_id: template.id } })).body;
    await until(
      () => hit('getTemplateVersion', { params: { templateversion: next.id } }),
      (r) => r.body.job.status === 'succeeded',
    );
    assert.strictEqual((await promote(next.id)).status, 200);
    assert.strictEqual((await hit('getTemplate', { params: { template: template.id } })).body.active_version_id, next.id);
  }

  it('answers unknown routes, wrong methods and non-API errors with coderd JSON and the build version', async () => {
    for (const [method, path, status] of [
      ['GET', '/api/v2/nope', 404],
      ['PUT', '/api/v2/users', 405],
      ['GET', '/no-such-page', 404],
    ] as const) {
      const response = await fetch(sim.url + path, { method, headers: { 'Coder-Session-Token': sim.ownerToken } });
      assert.strictEqual(response.status, status, `${method} ${path}`);
      assert.strictEqual(response.headers.get('x-coder-build-version'), SIM_BUILD_VERSION);
      check(S.Response, await response.json(), `${method} ${path}`);
    }
  });

  async function otherMemberToken(): Promise<string> {
    const name = `other-${crypto.randomBytes(3).toString('hex')}`;
    await hit('createUser', {
      body: { email: `${name}@x.io`, username: name, password: PASSWORD, organization_ids: [sim.organizationId] },
    });
    return (await hit('login', { body: { email: `${name}@x.io`, password: PASSWORD }, token: '' })).body.session_token;
  }
});
