// Issue 12: where our client and simulator differed from a real coderd. Each test pins coderd's
// behaviour in the simulator (raw HTTP where the wire matters) and the client's handling of it.
// docs/fidelity.md names the coderd source each follows.
import * as assert from 'assert';
import * as dns from 'dns';
import * as http from 'http';
import type { AddressInfo, LookupFunction } from 'net';
import { CoderApiError, CoderClient, routePath } from '../../../src/coder';
import { appUrl, openAppEchoChannel } from '../../../src/coder/apps';
import { parseCoderVersion, versionWarning } from '../../../src/coder/versions';
import { runSimCommand } from '../../../src/cli/commands/sim';
import { appLabelProblem } from '../../../src/engine/run/naming';
import { validatePlan } from '../../../src/engine/plan/plan';
import { coderdShapeProblems } from '../../support/coderdTypes';
import { memberClient, startFixture, STRONG_PASSWORD, uniqueName } from '../../support/simFixture';

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${what}: not reached`);
}

describe('coderd fidelity (issue 12)', () => {
  describe('item 1: deployment stats', () => {
    it('answers 400 until the first stats collection, which the client reads as "not yet"', async () => {
      const fx = await startFixture({ deploymentStatsIntervalMs: 60_000 });
      try {
        const raw = await fetch(fx.sim.url + routePath('deploymentStats'), { headers: { 'Coder-Session-Token': fx.sim.ownerToken } });
        assert.strictEqual(raw.status, 400);
        assert.strictEqual(((await raw.json()) as { message: string }).message, 'Deployment stats are still processing!');
        assert.strictEqual(await fx.owner.deploymentStats(), undefined);
      } finally {
        await fx.close();
      }
    });

    it("sends connection_latency_ms as coderd's Go field names P50/P95, and the client parses them", async () => {
      const fx = await startFixture({ deploymentStatsIntervalMs: 50 });
      try {
        const stats = await until(
          () => fx.owner.deploymentStats(),
          (s) => s !== undefined,
          'first collection',
        );
        assert.deepStrictEqual(Object.keys(stats!.workspaces.connection_latency_ms).sort(), ['P50', 'P95']);
        const raw = await fetch(fx.sim.url + routePath('deploymentStats'), { headers: { 'Coder-Session-Token': fx.sim.ownerToken } });
        const body = (await raw.json()) as { workspaces: { connection_latency_ms: Record<string, number> } };
        assert.strictEqual(typeof body.workspaces.connection_latency_ms.P95, 'number');
        assert.strictEqual(body.workspaces.connection_latency_ms.p95, undefined);
      } finally {
        await fx.close();
      }
    });
  });

  describe('item 4: token minting and the login limit', () => {
    it("mints user tokens within the deployment's maximum token lifetime", async () => {
      const fx = await startFixture({ maxTokenLifetimeMs: 3600_000 });
      try {
        const { userId } = await memberClient(fx);
        const week = 7 * 24 * 3600_000;
        const refused = await fx.owner.createApiKey(userId, { lifetime: week * 1e6, token_name: uniqueName('tok') }).then(
          () => assert.fail('a week-long token must be refused'),
          (error: unknown) => error as CoderApiError,
        );
        assert.ok(refused instanceof CoderApiError);
        assert.strictEqual(refused.status, 400);
        assert.strictEqual(refused.detail, 'lifetime must be less than 1h0m0s');
        assert.deepStrictEqual(await fx.owner.tokenConfig(userId), { max_token_lifetime: 3600_000 * 1e6 });
        const token = await fx.owner.mintToken(userId, uniqueName('tok'), week);
        assert.strictEqual((await fx.owner.withToken(token).me()).id, userId);
      } finally {
        await fx.close();
      }
    });

    it('limits POST /users/login per IP like coderd (owners cannot bypass it), with Retry-After', async () => {
      const fx = await startFixture({ loginRateLimitPerMinute: 3 }, { bypassRateLimit: true, maxRetryAfterMs: 1000 });
      try {
        const username = uniqueName();
        const email = `${username}@scaletest.local`;
        await fx.owner.createUser({ email, username, password: STRONG_PASSWORD, organization_ids: [fx.sim.organizationId] });
        for (let i = 0; i < 3; i++) await fx.owner.login(email, STRONG_PASSWORD);
        const limited = await fx.owner.login(email, STRONG_PASSWORD).then(
          () => assert.fail('the 4th login within a minute must be limited'),
          (error: unknown) => error as CoderApiError,
        );
        assert.strictEqual(limited.status, 429);
        const raw = await fetch(fx.sim.url + routePath('login'), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Coder-Bypass-Ratelimit': 'true', 'Coder-Session-Token': fx.sim.ownerToken },
          body: JSON.stringify({ email, password: STRONG_PASSWORD }),
        });
        assert.strictEqual(raw.status, 429);
        assert.ok(Number(raw.headers.get('retry-after')) > 0);
        // Other endpoints keep their own budget.
        assert.strictEqual((await fx.owner.me()).username, 'admin');
      } finally {
        await fx.close();
      }
    });

    it('waits as long as Retry-After asks (beyond the backoff cap) before retrying', async () => {
      // A stand-in for coderd's limiter that refuses any retry before its Retry-After has passed.
      let refusedAt: number | undefined;
      const attempts: number[] = [];
      const server = http.createServer((_req, res) => {
        attempts.push(Date.now());
        if (refusedAt === undefined || Date.now() - refusedAt < 1000) {
          refusedAt ??= Date.now();
          res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' }).end(JSON.stringify({ message: 'rate limited' }));
          return;
        }
        const body = { version: 'v2.24.1', external_url: 'x', dashboard_url: 'x', deployment_id: 'x', agent_api_version: '2.6' };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const client = new CoderClient(
        { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
        { retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 1 } },
      );
      try {
        assert.strictEqual((await client.buildInfo()).version, 'v2.24.1');
        assert.strictEqual(attempts.length, 2, 'one refusal, then one retry after the window');
      } finally {
        client.close();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('item 5: workspace creation route', () => {
    it('creates workspaces through POST /users/{user}/workspaces, as coderd’s frontend does', async () => {
      const fx = await startFixture();
      try {
        const { client, username } = await memberClient(fx);
        fx.requests.length = 0;
        const workspace = await client.createWorkspace(fx.sim.organizationId, 'me', {
          name: uniqueName('ws'),
          template_id: fx.sim.templateId,
        });
        assert.strictEqual(workspace.owner_name, username);
        assert.deepStrictEqual(
          fx.requests.map((r) => `${r.method} ${r.route} ${r.status}`),
          ['POST /api/v2/users/{user}/workspaces 201'],
        );
      } finally {
        await fx.close();
      }
    });

    it('falls back to the organization-member route on a coderd without the new one (404), once', async () => {
      const fx = await startFixture({ coderVersion: '2.16.0' });
      try {
        const { client } = await memberClient(fx);
        fx.requests.length = 0;
        for (let i = 0; i < 2; i++) {
          await client.createWorkspace(fx.sim.organizationId, 'me', { name: uniqueName('ws'), template_id: fx.sim.templateId });
        }
        assert.deepStrictEqual(
          fx.requests.map((r) => `${r.route} ${r.status}`),
          [
            '/api/v2/users/{user}/workspaces 404',
            '/api/v2/organizations/{organization}/members/{user}/workspaces 201',
            '/api/v2/organizations/{organization}/members/{user}/workspaces 201',
          ],
        );
      } finally {
        await fx.close();
      }
    });
  });
});

describe('coderd fidelity (issue 12): item 3, subdomain apps', () => {
  /** No wildcard DNS here: *.localhost resolves to loopback for this test only. */
  const resolveLocalhostSubdomainsForTest: LookupFunction = (hostname, options, callback) =>
    dns.lookup(hostname.endsWith('.localhost') ? '127.0.0.1' : hostname, options, callback);

  it('serves the echo app on a wildcard host with coderd’s subdomain label, and the client reaches it there', async () => {
    const fx = await startFixture({ subdomainApps: true });
    try {
      const { client, username } = await memberClient(fx);
      const created = await client.createWorkspace(fx.sim.organizationId, 'me', { name: uniqueName('ws'), template_id: fx.sim.templateId });
      const ready = await client.waitForAgents(created.id, { pollMs: 20 });
      const app = ready.latest_build.resources![0]!.agents![0]!.apps![0]!;
      assert.strictEqual(app.subdomain, true);
      assert.strictEqual(app.subdomain_name, `wsec--${created.name}--${username}`);
      const { host } = await fx.owner.appHost();
      assert.strictEqual(host, `*.apps.localhost:${new URL(fx.sim.url).port}`);
      const channel = await openAppEchoChannel({
        connection: { url: fx.sim.url, token: client.connection.token, lookup: resolveLocalhostSubdomainsForTest },
        owner: username,
        workspace: created.name,
        agent: 'main',
        slug: app.slug,
        subdomainHost: host,
        subdomainName: app.subdomain_name,
      });
      const echoed = new Promise<Buffer>((resolve) => channel.onData(resolve));
      channel.send(Buffer.from('over the subdomain'));
      assert.strictEqual((await echoed).toString(), 'over the subdomain');
      await channel.close();
    } finally {
      await fx.close();
    }
  });

  it('uses the path-based URL for an app that is not a subdomain app, even with a wildcard host', () => {
    const url = appUrl('http://127.0.0.1:3000', {
      owner: 'u',
      workspace: 'w',
      agent: 'main',
      slug: 'wsec',
      subdomainHost: '*.apps.localhost:3000',
    });
    assert.strictEqual(url, 'http://127.0.0.1:3000/@u/w.main/apps/wsec/');
  });

  it('refuses a subdomain label over DNS’s 63 characters, and plan validation rejects names that would make one', () => {
    const long = {
      owner: 'u',
      workspace: 'w',
      agent: 'main',
      slug: 'wsec',
      subdomainHost: '*.apps.example.com',
      subdomainName: 'x'.repeat(64),
    };
    assert.throws(() => appUrl('https://coder.example.com', long), /64 characters, over DNS's 63/);
    assert.strictEqual(appLabelProblem('wsec', 'st', 10_000), undefined, 'the default prefix fits the largest plan');
    assert.match(appLabelProblem('wsec', 'abcdef', 1000) ?? '', /up to 65 characters.*shorten runIdPrefix/);
    assert.throws(
      () => validatePlan({ users: 1000, runIdPrefix: 'abcdef' }),
      /runIdPrefix: a subdomain app's host label would be up to 65 characters/,
    );
  });
});

describe('coderd fidelity (issue 12): item 6, complete bodies', () => {
  it('the coderd type check catches the thin bodies the simulator used to serve', () => {
    const thinUser = { id: 'u', username: 'alice', email: 'a@x.io', name: '', status: 'active', created_at: 't' };
    const problems = coderdShapeProblems('User', thinUser);
    for (const field of ['avatar_url', 'last_seen_at', 'updated_at', 'login_type', 'organization_ids', 'roles']) {
      assert.ok(problems.includes(`User.${field}: missing`), problems.join('\n'));
    }
    assert.deepStrictEqual(coderdShapeProblems('WorkspaceConnectionLatencyMS', { p50: 0, p95: 0 }), [
      'WorkspaceConnectionLatencyMS.P50: missing',
      'WorkspaceConnectionLatencyMS.P95: missing',
    ]);
  });

  it('creates users dormant, as coderd does, until their first authenticated request', async () => {
    const fx = await startFixture();
    try {
      const username = uniqueName();
      const email = `${username}@scaletest.local`;
      const created = await fx.owner.createUser({ email, username, password: STRONG_PASSWORD, organization_ids: [fx.sim.organizationId] });
      assert.strictEqual(created.status, 'dormant');
      assert.strictEqual((await fx.owner.listUsers({ q: `${username} status:dormant` })).count, 1);
      const member = fx.owner.withToken(await fx.owner.login(email, STRONG_PASSWORD));
      const me = await member.me();
      assert.strictEqual(me.status, 'active');
      assert.ok(coderdShapeProblems('User', me).length === 0, coderdShapeProblems('User', me).join('\n'));
    } finally {
      await fx.close();
    }
  });
});

describe('coderd fidelity (issue 12): item 8, versions', () => {
  it('reads the version from buildinfo and warns outside the supported range', async () => {
    assert.deepStrictEqual(parseCoderVersion('v2.24.1+a1b2c3'), { major: 2, minor: 24, patch: 1 });
    assert.strictEqual(parseCoderVersion('v0.0.0-devel+abc'), undefined);
    assert.strictEqual(versionWarning('v2.24.1'), undefined);
    assert.match(versionWarning('v2.10.3') ?? '', /older than the oldest version this tool supports \(v2\.15\.0\)/);
    assert.match(versionWarning('v3.0.0') ?? '', /newer major version/);
    const fx = await startFixture({ coderVersion: '2.14.2' });
    try {
      const check = await fx.owner.versionCheck();
      assert.strictEqual(check.version, 'v2.14.2+sim');
      assert.match(check.warning ?? '', /older than the oldest/);
    } finally {
      await fx.close();
    }
  });

  it('the simulator impersonates an older coderd: build version header, no user workspace route, no per-user token config', async () => {
    const fx = await startFixture({ coderVersion: '2.16.0' });
    try {
      const info = await fetch(fx.sim.url + routePath('buildInfo'));
      assert.strictEqual(info.headers.get('x-coder-build-version'), 'v2.16.0+sim');
      assert.strictEqual(((await info.json()) as { version: string }).version, 'v2.16.0+sim');
      const { userId } = await memberClient(fx);
      assert.strictEqual(await fx.owner.tokenConfig(userId), undefined);
      const token = await fx.owner.mintToken(userId, uniqueName('tok'), 3600_000);
      assert.strictEqual((await fx.owner.withToken(token).me()).id, userId);
    } finally {
      await fx.close();
    }
  });

  it('`sim --coder-version` refuses a value that is not a version, saying what it expects', async () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      assert.strictEqual(await runSimCommand(['--coder-version', 'latest']), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.match(written.join(''), /--coder-version: "latest" is not a coderd version; expected e\.g\. \d+\.\d+\.\d+/);
  });
});
