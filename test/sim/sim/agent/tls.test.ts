// TLS options reach every data-plane connection: the CLI download, the PTY and app WebSockets,
// and the CLI's own connection (the simulator's Node CLI honours them through its environment).
import * as assert from 'assert';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { openAppEchoChannel } from '../../../../src/coder/apps';
import { ensureCoderBinary } from '../../../../src/coder/cliCache';
import type { DeploymentConnection } from '../../../../src/coder/connection';
import { openPtyEchoChannel } from '../../../../src/coder/pty';
import { openSshEchoChannel } from '../../../../src/coder/ssh';
import { startSimDeployment, type SimDeployment } from '../../../../src/sim';
import { CoderClient } from '../../../../src/coder';
import { makeSelfSignedCert, type SelfSignedCert } from '../../../support/selfSignedCert';
import { Collector, waitFor } from './harness';

describe('data plane over TLS', () => {
  let tlsCert: SelfSignedCert;
  let sim: SimDeployment;
  let workspace: { owner: string; name: string; agentId: string; agent: string };

  before(async () => {
    tlsCert = makeSelfSignedCert('dataplane-tls-');
    sim = await startSimDeployment({
      buildDurationMs: 100,
      agentConnectDelayMs: 10,
      tls: tlsCert.serverTls,
    });
    const owner = new CoderClient({ url: sim.url, token: sim.ownerToken, tls: { insecure: true } });
    const created = await owner.createWorkspace(sim.organizationId, 'me', {
      name: `tls-${process.pid % 10000}`,
      template_id: sim.templateId,
    });
    await owner.waitForBuild(created.latest_build.id, { pollMs: 50 });
    const ready = await owner.waitForAgents(created.id, { pollMs: 50, timeoutMs: 10_000 });
    const agent = (ready.latest_build.resources ?? []).flatMap((resource) => resource.agents ?? [])[0];
    workspace = { owner: ready.owner_name, name: ready.name, agentId: agent.id, agent: agent.name };
    owner.close();
  });
  after(async () => {
    await sim.close();
    fs.rmSync(tlsCert.dir, { recursive: true, force: true });
  });

  it('refuses an untrusted certificate, then works with caFile: CLI download, SSH via the CLI, PTY', async () => {
    const untrusted: DeploymentConnection = { url: sim.url, token: sim.ownerToken };
    const trusted: DeploymentConnection = { ...untrusted, tls: { caFile: tlsCert.certFile } };
    await assert.rejects(
      ensureCoderBinary({ connection: untrusted, cacheDir: tlsCert.dir }),
      /Cannot download the coder CLI.*certificate/i,
    );
    await assert.rejects(
      openPtyEchoChannel({ connection: untrusted, agentId: workspace.agentId, width: 80, height: 24, command: 'cat' }),
      /certificate/i,
    );

    const binary = await ensureCoderBinary({ connection: trusted, cacheDir: tlsCert.dir });
    const ssh = await openSshEchoChannel({
      transport: { kind: 'cli', binaryPath: binary.path, connection: trusted, owner: workspace.owner, workspace: workspace.name },
      bytesPerTick: 64,
    });
    const sshOut = new Collector();
    ssh.onData(sshOut.push);
    const payload = randomBytes(200);
    ssh.send(payload);
    await waitFor(() => sshOut.bytes.length >= payload.length, 'ssh echo over TLS');
    assert.deepStrictEqual(sshOut.bytes, payload);
    await ssh.close();

    const pty = await openPtyEchoChannel({
      connection: trusted,
      agentId: workspace.agentId,
      width: 80,
      height: 24,
      command: 'dd if=/dev/stdin of=/dev/null bs=64 status=none',
    });
    const ptyOut = new Collector();
    pty.onData(ptyOut.pushFresh);
    pty.send(Buffer.from('secure\n'));
    await waitFor(() => ptyOut.text === 'secure\n', 'pty echo over TLS');
    await pty.close();
  });

  it('works with insecure opted in: app WebSocket', async () => {
    const connection: DeploymentConnection = { url: sim.url, token: sim.ownerToken, tls: { insecure: true } };
    const app = await openAppEchoChannel({
      connection,
      owner: workspace.owner,
      workspace: workspace.name,
      agent: workspace.agent,
      slug: 'wsec',
    });
    const out = new Collector();
    app.onData(out.push);
    const payload = randomBytes(1024);
    app.send(payload);
    await waitFor(() => out.bytes.length >= payload.length, 'app echo over TLS');
    assert.deepStrictEqual(out.bytes, payload);
    await app.close();
  });
});
