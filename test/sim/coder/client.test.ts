import * as assert from 'assert';
import * as http from 'http';
import type { AddressInfo } from 'net';
import {
  BuildFailedError,
  CoderApiError,
  CoderClient,
  DeploymentUnreachableError,
  RequestTimeoutError,
  SchemaMismatchError,
  type ProvisionerJobLog,
} from '../../../src/coder';
import { memberClient, startFixture, STRONG_PASSWORD, uniqueName, type Fixture } from '../../support/simFixture';

async function rejectsWith<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${(error as Error).name}: ${(error as Error).message}`);
    return error as T;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

describe('CoderClient against the simulated deployment', () => {
  let fx: Fixture;
  before(async () => {
    fx = await startFixture();
  });
  after(async () => fx.close());

  it('reads build info and health, and reports every request through onRequest', async () => {
    const info = await fx.owner.buildInfo();
    assert.match(info.version, /^v\d+\.\d+\.\d+/);
    assert.strictEqual(await fx.owner.healthz(), 'OK');
    const seen = fx.requests.slice(-2);
    assert.deepStrictEqual(
      seen.map((r) => [r.method, r.route, r.endpointClass, r.status]),
      [
        ['GET', '/api/v2/buildinfo', 'health', 200],
        ['GET', '/healthz', 'health', 200],
      ],
    );
    assert.ok(seen.every((r) => r.durationMs >= 0 && r.attempt === 1));
  });

  it('checks the owner role', async () => {
    const me = await fx.owner.requireOwner();
    assert.strictEqual(me.username, 'admin');
    const { client, username } = await memberClient(fx);
    await assert.rejects(client.requireOwner(), new RegExp(`user ${username} lacks the owner role; scale tests need an owner`));
  });

  it('logs in (201) and rejects a wrong password with 401', async () => {
    const { username } = await memberClient(fx);
    const token = await fx.owner.login(`${username}@scaletest.local`, `pw-${username}`);
    assert.match(token, /^[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/);
    assert.strictEqual((await fx.owner.withToken(token).me()).username, username);
    const error = await rejectsWith(fx.owner.login(`${username}@scaletest.local`, 'wrong'), CoderApiError);
    assert.strictEqual(error.status, 401);
    assert.strictEqual(error.route, '/api/v2/users/login');
  });

  it('answers 401 without a valid token, and never puts the token in the error', async () => {
    const anonymous = new CoderClient({ url: fx.sim.url });
    assert.strictEqual((await rejectsWith(anonymous.me(), CoderApiError)).status, 401);
    const fakeToken = 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB';
    const error = await rejectsWith(fx.owner.withToken(fakeToken).me(), CoderApiError);
    assert.strictEqual(error.status, 401);
    assert.ok(!error.message.includes(fakeToken) && !error.message.includes('BBBBBBBBBBBB'));
    assert.match(error.message, /GET \/api\/v2\/users\/\{user\} failed with 401/);
  });

  it('creates, lists with q and paging, gets and deletes users', async () => {
    const prefix = uniqueName('pagetest');
    for (let i = 0; i < 3; i++) {
      await fx.owner.createUser({
        email: `${prefix}-${i}@scaletest.local`,
        username: `${prefix}-${i}`,
        password: STRONG_PASSWORD,
        login_type: 'password',
        organization_ids: [fx.sim.organizationId],
      });
    }
    const firstPage = await fx.owner.listUsers({ q: prefix, limit: 2 });
    assert.strictEqual(firstPage.count, 3);
    assert.deepStrictEqual(
      firstPage.users.map((u) => u.username),
      [`${prefix}-0`, `${prefix}-1`],
    );
    const secondPage = await fx.owner.listUsers({ q: prefix, offset: 2, limit: 2 });
    assert.deepStrictEqual(
      secondPage.users.map((u) => u.username),
      [`${prefix}-2`],
    );
    const user = await fx.owner.getUser(`${prefix}-1`);
    await fx.owner.deleteUser(user.id);
    assert.strictEqual((await fx.owner.listUsers({ q: prefix })).count, 2);
    assert.strictEqual((await rejectsWith(fx.owner.getUser(user.id), CoderApiError)).status, 404);
  });

  it('reports 400 validations and 409 conflicts like coderd', async () => {
    const error = await rejectsWith(
      fx.owner.createUser({ email: 'not-an-email', username: 'bad name!', password: 'x', login_type: 'password' }),
      CoderApiError,
    );
    assert.strictEqual(error.status, 400);
    assert.strictEqual(error.apiMessage, 'Validation failed.');
    assert.deepStrictEqual(error.validations.map((v) => v.field).sort(), ['email', 'username']);
    assert.match(error.message, /email: Validation failed/);
    const { username } = await memberClient(fx);
    const conflict = await rejectsWith(
      fx.owner.createUser({
        email: 'other@scaletest.local',
        username,
        password: STRONG_PASSWORD,
        organization_ids: [fx.sim.organizationId],
      }),
      CoderApiError,
    );
    assert.strictEqual(conflict.status, 409);
    const weak = await rejectsWith(
      fx.owner.createUser({
        email: 'weak@scaletest.local',
        username: 'weak',
        password: 'password',
        organization_ids: [fx.sim.organizationId],
      }),
      CoderApiError,
    );
    assert.strictEqual(weak.apiMessage, 'Password not strong enough!');
    const orphan = await rejectsWith(
      fx.owner.createUser({ email: 'o@scaletest.local', username: 'orphan', password: STRONG_PASSWORD }),
      CoderApiError,
    );
    assert.deepStrictEqual([orphan.status, orphan.validations[0]?.field], [400, 'organization_ids']);
  });

  it('lists templates of the organization and finds one by name', async () => {
    const templates = await fx.owner.templates(fx.sim.organizationId);
    assert.deepStrictEqual(
      templates.map((t) => t.id),
      [fx.sim.templateId],
    );
    assert.strictEqual((await fx.owner.templateByName(fx.sim.organizationId, templates[0]!.name)).id, fx.sim.templateId);
    assert.strictEqual((await fx.owner.organizations())[0]!.id, fx.sim.organizationId);
  });

  it('creates a workspace for a member, follows its build and waits for the agent', async () => {
    const { client, username } = await memberClient(fx);
    const name = uniqueName('ws');
    const workspace = await fx.owner.createWorkspace(fx.sim.organizationId, username, { name, template_id: fx.sim.templateId });
    assert.strictEqual(workspace.owner_name, username);
    assert.strictEqual(workspace.latest_build.job.status, 'pending');
    assert.deepStrictEqual(workspace.latest_build.resources, [], 'like coderd, resources appear when the job has succeeded');
    const logs: ProvisionerJobLog[] = [];
    const build = await client.waitForBuild(workspace.latest_build.id, { onLog: (log) => logs.push(log), pollMs: 20 });
    assert.strictEqual(build.job.status, 'succeeded');
    assert.strictEqual(build.status, 'running');
    assert.ok(logs.length >= 3, `expected streamed logs, got ${logs.length}`);
    assert.ok(logs.some((log) => log.output === 'Build succeeded'));
    const ready = await client.waitForAgents(workspace.id, { pollMs: 20, timeoutMs: 5000 });
    const agent = ready.latest_build.resources![0]!.agents![0]!;
    assert.strictEqual(agent.status, 'connected');
    assert.strictEqual(agent.apps![0]!.slug, 'wsec');
    assert.strictEqual((await client.workspaceByOwnerAndName(username, name)).id, workspace.id);
  });

  it('reports a refused log socket once, with the status and coderd message', async () => {
    fx.requests.length = 0;
    const error = await rejectsWith(
      fx.owner.followBuildLogs('00000000-0000-4000-8000-000000000000', () => {}),
      CoderApiError,
    );
    assert.strictEqual(error.status, 404);
    assert.match(error.message, /Resource not found/);
    assert.deepStrictEqual(
      fx.requests.map((r) => [r.route, r.status]),
      [['/api/v2/workspacebuilds/{workspacebuild}/logs', 404]],
    );
  });

  it('finds workspaces with q and pages through them', async () => {
    const { username } = await memberClient(fx);
    const prefix = uniqueName('find');
    for (let i = 0; i < 3; i++) {
      await fx.owner.createWorkspace(fx.sim.organizationId, username, { name: `${prefix}-${i}`, template_id: fx.sim.templateId });
    }
    const byName = await fx.owner.listWorkspaces({ q: `name:"${prefix}"`, limit: 2 });
    assert.strictEqual(byName.count, 3);
    assert.strictEqual(byName.workspaces.length, 2);
    const rest = await fx.owner.listWorkspaces({ q: `name:"${prefix}"`, offset: 2, limit: 2 });
    assert.deepStrictEqual(
      rest.workspaces.map((w) => w.name),
      [`${prefix}-2`],
    );
    assert.strictEqual((await fx.owner.listWorkspaces({ q: `owner:${username}` })).count, 3);
    assert.strictEqual((await fx.owner.listWorkspaces({ q: `owner:${username} name:"nothing-like-this"` })).count, 0);
    const invalid = await rejectsWith(fx.owner.listWorkspaces({ q: 'colour:blue' }), CoderApiError);
    assert.strictEqual(invalid.status, 400);
  });

  it('deletes a workspace: 410 afterwards, readable with includeDeleted; 404 for an id that never existed', async () => {
    const { username } = await memberClient(fx);
    const workspace = await fx.owner.createWorkspace(fx.sim.organizationId, username, {
      name: uniqueName('del'),
      template_id: fx.sim.templateId,
    });
    await fx.owner.waitForBuild(workspace.latest_build.id, { pollMs: 20 });
    const deletion = await fx.owner.createBuild(workspace.id, { transition: 'delete' });
    assert.strictEqual(deletion.transition, 'delete');
    const done = await fx.owner.waitForBuild(deletion.id, { pollMs: 20 });
    assert.strictEqual(done.status, 'deleted');
    const gone = await rejectsWith(fx.owner.getWorkspace(workspace.id), CoderApiError);
    assert.strictEqual(gone.status, 410);
    assert.strictEqual((await fx.owner.getWorkspace(workspace.id, { includeDeleted: true })).latest_build.status, 'deleted');
    const never = await rejectsWith(fx.owner.getWorkspace('00000000-0000-4000-8000-000000000000'), CoderApiError);
    assert.strictEqual(never.status, 404);
  });

  it('cancels an active build; the wait ends with the canceled job', async () => {
    fx.sim.setFaults({ buildDurationMs: 10_000 });
    try {
      const { username } = await memberClient(fx);
      const workspace = await fx.owner.createWorkspace(fx.sim.organizationId, username, {
        name: uniqueName('cancel'),
        template_id: fx.sim.templateId,
      });
      const conflict = await rejectsWith(fx.owner.createBuild(workspace.id, { transition: 'delete' }), CoderApiError);
      assert.strictEqual(conflict.status, 409);
      const answer = await fx.owner.cancelBuild(workspace.latest_build.id);
      assert.match(answer.message, /canceled/);
      const failed = await rejectsWith(fx.owner.waitForBuild(workspace.latest_build.id, { pollMs: 20 }), BuildFailedError);
      assert.strictEqual(failed.jobStatus, 'canceled');
      const again = await rejectsWith(fx.owner.cancelBuild(workspace.latest_build.id), CoderApiError);
      assert.strictEqual(again.status, 400);
    } finally {
      fx.sim.setFaults({});
    }
  });

  it('reads deployment stats, the app host and creates API tokens', async () => {
    const stats = await fx.owner.deploymentStats();
    assert.ok(stats, 'collected by now');
    assert.ok(stats.workspaces.running >= 1);
    assert.strictEqual(typeof stats.session_count.ssh, 'number');
    assert.deepStrictEqual(await fx.owner.appHost(), { host: '' });
    const { client, userId } = await memberClient(fx);
    const { key } = await fx.owner.createApiKey(userId, { lifetime: 3600 * 1e9, scope: 'all', token_name: uniqueName('tok') });
    assert.strictEqual((await fx.owner.withToken(key).me()).id, userId);
    assert.strictEqual((await rejectsWith(client.deploymentStats(), CoderApiError)).status, 403);
  });
});

describe('CoderClient rate limits, retries and timeouts', () => {
  it('gets 429 past the per-user, per-path limit; an owner bypasses it, a member may not', async () => {
    const fx = await startFixture({ rateLimitPerMinute: 5 }, { retry: { retries: 0 } });
    try {
      for (let i = 0; i < 5; i++) await fx.owner.me();
      const limited = await rejectsWith(fx.owner.me(), CoderApiError);
      assert.strictEqual(limited.status, 429);
      assert.match(limited.apiMessage, /rate limited/);
      // Like coderd (httprate KeyByEndpoint), each path has its own budget.
      assert.strictEqual((await fx.owner.organizations()).length, 1);
      const bypassing = new CoderClient({ url: fx.sim.url, token: fx.sim.ownerToken }, { bypassRateLimit: true });
      for (let i = 0; i < 10; i++) await bypassing.me();
      const username = uniqueName();
      await bypassing.createUser({
        email: `${username}@x.io`,
        username,
        password: STRONG_PASSWORD,
        organization_ids: [fx.sim.organizationId],
      });
      const memberToken = await bypassing.login(`${username}@x.io`, STRONG_PASSWORD);
      const member = bypassing.withToken(memberToken);
      assert.strictEqual((await rejectsWith(member.me(), CoderApiError)).status, 428);
      bypassing.close();
    } finally {
      await fx.close();
    }
  });

  it('gives up on a 429 whose Retry-After is longer than it may wait (no early retry into the same window)', async () => {
    const fx = await startFixture(
      { rateLimitPerMinute: 2 },
      { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 }, maxRetryAfterMs: 1000 },
    );
    try {
      await fx.owner.me();
      await fx.owner.me();
      fx.requests.length = 0;
      // Retry-After says wait ~60 s, longer than this client may wait: retrying sooner would
      // only be refused again, so it gives up after the first attempt.
      await rejectsWith(fx.owner.me(), CoderApiError);
      assert.deepStrictEqual(
        fx.requests.map((r) => [r.attempt, r.status]),
        [[1, 429]],
      );
      assert.ok(fx.requests.every((r) => r.error && /429/.test(r.error)));
    } finally {
      await fx.close();
    }
  });

  it('retries a read through a restart (503) but not a write', async () => {
    // Enough retries that full-jitter backoff always outlasts the 300 ms downtime.
    const fx = await startFixture({}, { retry: { retries: 30, baseDelayMs: 100, maxDelayMs: 200 } });
    try {
      fx.sim.setFaults({ restart: { atMs: 0, downForMs: 300 } });
      await new Promise((resolve) => setTimeout(resolve, 30));
      fx.requests.length = 0;
      const write = await rejectsWith(
        fx.owner.createUser({
          email: 'r@x.io',
          username: 'restart-write',
          password: STRONG_PASSWORD,
          organization_ids: [fx.sim.organizationId],
        }),
        CoderApiError,
      );
      assert.strictEqual(write.status, 503);
      assert.strictEqual(fx.requests.length, 1, 'a write is not retried on 503');
      fx.requests.length = 0;
      const me = await fx.owner.me();
      assert.strictEqual(me.username, 'admin');
      const statuses = fx.requests.map((r) => r.status);
      assert.ok(statuses.length >= 2 && statuses[0] === 503 && statuses.at(-1) === 200, `attempts: ${statuses.join(',')}`);
    } finally {
      await fx.close();
    }
  });

  it('times out a slow request and reports it', async () => {
    const fx = await startFixture({ faults: { latency: { users: { ms: 1000 } } } }, { timeoutMs: 100, retry: { retries: 0 } });
    try {
      const error = await rejectsWith(fx.owner.me(), RequestTimeoutError);
      assert.match(error.message, /no answer within 100 ms/);
      const last = fx.requests.at(-1)!;
      assert.strictEqual(last.status, undefined);
      assert.match(last.error ?? '', /no answer/);
    } finally {
      await fx.close();
    }
  });

  it('reports an unreachable deployment distinctly, after retrying reads', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const attempts: number[] = [];
    const client = new CoderClient(
      { url: `http://127.0.0.1:${port}`, token: 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB' },
      { retry: { retries: 2, baseDelayMs: 1 }, onRequest: (info) => attempts.push(info.attempt) },
    );
    const error = await rejectsWith(client.buildInfo(), DeploymentUnreachableError);
    assert.strictEqual(error.code, 'ECONNREFUSED');
    assert.match(error.message, /Cannot reach the Coder deployment at http:\/\/127\.0\.0\.1:\d+ .*check the URL and port/);
    assert.deepStrictEqual(attempts, [1, 2, 3]);
    assert.throws(() => new CoderClient({ url: 'coder.example.com' }), /not a valid deployment URL/);
  });

  it('names the endpoint and field when a response does not match the schema', async () => {
    const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"external_url": 5}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new CoderClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const error = await rejectsWith(client.buildInfo(), SchemaMismatchError);
      assert.match(error.message, /GET \/api\/v2\/buildinfo: unexpected response shape at version/);
      client.close();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
