// The data plane end to end through the full simulated deployment (its routing, auth and
// session accounting), exactly as the engine will use it against a real coderd.
import * as assert from 'assert';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { appRequest, appUrl, openAppEchoChannel } from '../../../../src/coder/apps';
import { ensureCoderBinary } from '../../../../src/coder/cliCache';
import type { EchoChannel } from '../../../../src/coder/echo';
import { openPtyEchoChannel } from '../../../../src/coder/pty';
import { openSshEchoChannel } from '../../../../src/coder/ssh';
import { type Fixture, startFixture, uniqueName } from '../../../support/simFixture';
import { Collector, waitFor } from './harness';

/** Random printable characters plus '\n', like the engine's ticks. */
function tick(size: number): Buffer {
  const bytes = randomBytes(size);
  for (let i = 0; i < size - 1; i++) bytes[i] = 0x21 + (bytes[i] % 94);
  bytes[size - 1] = 0x0a;
  return bytes;
}

async function assertEchoes(channel: EchoChannel, payloads: Buffer[]): Promise<void> {
  const out = new Collector();
  channel.onData(out.pushFresh);
  for (const payload of payloads) channel.send(payload);
  const sent = Buffer.concat(payloads);
  await waitFor(() => out.bytes.length >= sent.length, 'echo');
  assert.deepStrictEqual(out.bytes, sent);
}

describe('data plane through the simulated deployment', () => {
  let fixture: Fixture;
  let cacheDir: string;
  let agentId: string;
  let ownerName: string;
  let workspaceName: string;
  let agentName: string;

  before(async () => {
    fixture = await startFixture({ directSsh: true });
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coder-cli-cache-'));
    const [template] = await fixture.owner.templates(fixture.sim.organizationId);
    const created = await fixture.owner.createWorkspace(fixture.sim.organizationId, 'me', {
      template_id: template.id,
      name: uniqueName('dp'),
    });
    await fixture.owner.waitForBuild(created.latest_build.id, { pollMs: 50 });
    const workspace = await fixture.owner.waitForAgents(created.id, { pollMs: 50, timeoutMs: 10_000 });
    const agent = (workspace.latest_build.resources ?? []).flatMap((resource) => resource.agents ?? [])[0];
    agentId = agent.id;
    agentName = agent.name;
    ownerName = workspace.owner_name;
    workspaceName = workspace.name;
  });
  after(async () => {
    await fixture.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('PTY: echo, counted in deployment stats, reconnect with the replay as resync data', async () => {
    const connection = { url: fixture.sim.url, token: fixture.sim.ownerToken };
    const channel = await openPtyEchoChannel({
      connection,
      agentId,
      width: 80,
      height: 24,
      command: 'dd if=/dev/stdin of=/dev/null bs=1024 status=none',
    });
    const out = new Collector();
    channel.onData(out.pushFresh);
    const first = tick(1024);
    channel.send(first);
    await waitFor(() => out.bytes.length >= first.length, 'first echo');
    assert.strictEqual(fixture.sim.stats().sessions.reconnecting_pty, 1);
    // Re-attaching replays the first echo: resync data, not fresh data.
    await channel.reconnect();
    const second = tick(1024);
    channel.send(second);
    await waitFor(() => out.bytes.length >= first.length + second.length, 'second echo');
    assert.deepStrictEqual(out.bytes, Buffer.concat([first, second]));
    await channel.close();
    await waitFor(() => fixture.sim.stats().sessions.reconnecting_pty === 0, 'PTY session released');
  });

  it('SSH: downloads the CLI (then 304 reuse) and echoes through `coder ssh --stdio`', async () => {
    const connection = { url: fixture.sim.url, token: fixture.sim.ownerToken };
    assert.strictEqual((await ensureCoderBinary({ connection, cacheDir })).outcome, 'downloaded');
    const binary = await ensureCoderBinary({ connection, cacheDir });
    assert.strictEqual(binary.outcome, 'reused');
    const channel = await openSshEchoChannel({
      transport: { kind: 'cli', binaryPath: binary.path, connection, owner: ownerName, workspace: workspaceName },
      bytesPerTick: 1024,
    });
    await assertEchoes(channel, [randomBytes(1024), randomBytes(1024)]);
    assert.strictEqual(fixture.sim.stats().sessions.ssh, 1);
    await channel.close();
    await waitFor(() => fixture.sim.stats().sessions.ssh === 0, 'SSH session released');
  });

  it('SSH: the CLI reaches the agent named <owner>/<workspace>.<agent>; an unknown agent is refused', async () => {
    const connection = { url: fixture.sim.url, token: fixture.sim.ownerToken };
    const binary = await ensureCoderBinary({ connection, cacheDir });
    const base = { kind: 'cli' as const, binaryPath: binary.path, connection, owner: ownerName, workspace: workspaceName };
    const channel = await openSshEchoChannel({ transport: { ...base, agent: agentName }, bytesPerTick: 64 });
    await assertEchoes(channel, [tick(64)]);
    await channel.close();
    await assert.rejects(openSshEchoChannel({ transport: { ...base, agent: `${agentName}x` }, bytesPerTick: 64 }), /HTTP 404/);
  });

  it('SSH: direct TCP port', async () => {
    const direct = fixture.sim.directSsh;
    assert.ok(direct, 'the simulator exposes a direct SSH port');
    const channel = await openSshEchoChannel({
      transport: { kind: 'tcp', host: direct.host, port: direct.port, username: `${ownerName}/${workspaceName}` },
      bytesPerTick: 256,
    });
    await assertEchoes(channel, [randomBytes(256), randomBytes(10)]);
    await channel.close();
  });

  it('apps: 307 to the trailing slash, HTTP echo and WebSocket echo', async () => {
    const connection = { url: fixture.sim.url, token: fixture.sim.ownerToken };
    const target = { owner: ownerName, workspace: workspaceName, agent: agentName, slug: 'wsec' };
    const base = appUrl(connection.url, target);
    const response = await appRequest({ connection, url: base.slice(0, -1), method: 'POST', body: Buffer.from('ping') });
    assert.deepStrictEqual([response.status, response.url, response.body.toString()], [200, base, 'ping']);
    const channel = await openAppEchoChannel({ connection, ...target });
    await assertEchoes(channel, [randomBytes(1024), randomBytes(1024)]);
    assert.strictEqual(fixture.sim.stats().sessions.app, 1);
    await channel.close();
  });
});
