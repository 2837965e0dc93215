import * as assert from 'assert';
import { execFileSync, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'ssh2';
import { coderBinaryName, CoderBinaryError, ensureCoderBinary } from '../../../../src/coder/cliCache';
import type { EchoChannel } from '../../../../src/coder/echo';
import { coderSshTarget, openSshEchoChannel, SshChannelError, type SshTransport } from '../../../../src/coder/ssh';
import { CLI_SHIM_VERSION } from '../../../../src/sim/agent';
import { Collector, useHarnessAndCacheDir, waitFor } from './harness';

async function echoRoundTrip(channel: EchoChannel, sizes: number[]): Promise<void> {
  const out = new Collector();
  channel.onData(out.push);
  const sent = Buffer.concat(sizes.map((size) => randomBytes(size)));
  let offset = 0;
  for (const size of sizes) {
    channel.send(sent.subarray(offset, offset + size));
    offset += size;
  }
  await waitFor(() => out.bytes.length >= sent.length, 'ssh echo');
  assert.deepStrictEqual(out.bytes, sent);
}

describe('data plane: coder CLI cache', () => {
  const fixture = useHarnessAndCacheDir();

  it('maps Node platforms to Coder binary names', () => {
    assert.strictEqual(coderBinaryName('linux', 'x64'), 'coder-linux-amd64');
    assert.strictEqual(coderBinaryName('darwin', 'arm64'), 'coder-darwin-arm64');
    assert.strictEqual(coderBinaryName('win32', 'x64'), 'coder-windows-amd64.exe');
    assert.throws(() => coderBinaryName('aix', 'ppc64'), /no CLI for aix\/ppc64.*configure its path/);
  });

  it('downloads once, then revalidates with the ETag (304) and reuses the file', async () => {
    const first = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    assert.strictEqual(first.outcome, 'downloaded');
    assert.ok(fs.statSync(first.path).mode & 0o100, 'executable');
    assert.match(execFileSync(first.path, ['--version'], { encoding: 'utf8' }), new RegExp(CLI_SHIM_VERSION));
    const second = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    assert.deepStrictEqual(second, { path: first.path, outcome: 'reused' });
    assert.strictEqual(fixture.harness.binaryRequests, 2);
    // No temp or lock files are left behind.
    assert.deepStrictEqual(fs.readdirSync(path.dirname(first.path)).sort(), [coderBinaryName(), `${coderBinaryName()}.etag`]);
  });

  it('downloads again when the ETag changed', async () => {
    const first = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    fs.writeFileSync(`${first.path}.etag`, '"an-older-build"');
    fs.writeFileSync(first.path, 'stale', { mode: 0o755 });
    const again = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    assert.strictEqual(again.outcome, 'downloaded');
    assert.notStrictEqual(fs.readFileSync(again.path, 'utf8'), 'stale');
  });

  it('shares one download between concurrent callers', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir })),
    );
    assert.deepStrictEqual(
      results.map((r) => r.outcome),
      ['downloaded', 'downloaded', 'downloaded'],
    );
    assert.strictEqual(fixture.harness.binaryRequests, 1);
  });

  it('waits for another process holding the lock file', async () => {
    const dir = path.join(fixture.cacheDir, `127.0.0.1_${new URL(fixture.harness.url).port}`);
    fs.mkdirSync(dir, { recursive: true });
    const lock = path.join(dir, `${coderBinaryName()}.lock`);
    // The holder is alive (a lock naming a dead pid is taken over at once: see below).
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(lock, String(holder.pid));
      const pending = ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
      await new Promise((resolve) => setTimeout(resolve, 250));
      assert.strictEqual(fixture.harness.binaryRequests, 0, 'no download while the lock is held');
      fs.rmSync(lock);
      assert.strictEqual((await pending).outcome, 'downloaded');
    } finally {
      holder.kill();
    }
  });

  it('takes over a stale lock file left by a process that died', async () => {
    const dir = path.join(fixture.cacheDir, `127.0.0.1_${new URL(fixture.harness.url).port}`);
    fs.mkdirSync(dir, { recursive: true });
    const lock = path.join(dir, `${coderBinaryName()}.lock`);
    fs.writeFileSync(lock, '12345');
    const anHourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(lock, anHourAgo, anHourAgo);
    assert.strictEqual(
      (await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir })).outcome,
      'downloaded',
    );
    assert.ok(!fs.existsSync(lock), 'lock released');
  });

  it('the served CLI explains bad usage and unreachable deployments on stderr with exit 1', async () => {
    const { path: cli } = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    const run = (args: string[], env: Record<string, string>) => {
      const result = spawnSync(cli, args, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 10_000 });
      return [result.status, result.stderr.trim()];
    };
    const env = { CODER_URL: fixture.harness.url, CODER_SESSION_TOKEN: 'secret-token' };
    assert.deepStrictEqual(run(['ssh', '--stdio', 'alice/alpha'], { CODER_SESSION_TOKEN: 'x' }), [
      1,
      'coder: CODER_URL is not set: set it to the deployment URL',
    ]);
    assert.deepStrictEqual(run(['ssh', '--stdio', 'alice/alpha'], { CODER_URL: fixture.harness.url }), [
      1,
      'coder: CODER_SESSION_TOKEN is not set: set it to a session token',
    ]);
    assert.deepStrictEqual(run(['ssh', '--stdio', 'alpha'], env), [1, 'coder: expected <owner>/<workspace>, got "alpha"']);
    assert.deepStrictEqual(run(['login'], env), [
      1,
      'coder: this simulated CLI only supports "coder ssh --stdio <owner>/<workspace>" and "coder --version"',
    ]);
    const [status, stderr] = run(['ssh', '--stdio', 'alice/alpha'], { ...env, CODER_URL: 'http://127.0.0.1:1' });
    assert.strictEqual(status, 1);
    assert.match(String(stderr), /^coder: cannot reach http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('prefers a configured path and explains a bad one', async () => {
    const configured = path.join(fixture.cacheDir, 'my-coder');
    fs.writeFileSync(configured, '#!/bin/sh\n', { mode: 0o755 });
    assert.deepStrictEqual(
      await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir, configuredPath: configured }),
      { path: configured, outcome: 'configured' },
    );
    await assert.rejects(
      ensureCoderBinary({
        connection: fixture.harness.connection,
        cacheDir: fixture.cacheDir,
        configuredPath: path.join(fixture.cacheDir, 'missing'),
      }),
      /does not exist or is not executable/,
    );
    assert.strictEqual(fixture.harness.binaryRequests, 0);
  });

  it('reports a failed download with the status and what to do', async () => {
    await assert.rejects(
      ensureCoderBinary({ connection: { url: `${fixture.harness.url}/nothing-here` }, cacheDir: fixture.cacheDir }),
      (error: unknown) =>
        error instanceof CoderBinaryError && /nothing-here\/bin\/coder-.* failed with HTTP 401; .*configure its path/.test(error.message),
    );
    await assert.rejects(
      ensureCoderBinary({ connection: { url: 'http://127.0.0.1:1' }, cacheDir: fixture.cacheDir }),
      /Cannot download the coder CLI/,
    );
  });
});

describe('data plane: SSH echo', () => {
  const fixture = useHarnessAndCacheDir();

  it('echoes exactly through the downloaded coder CLI (ssh --stdio), then closes cleanly', async () => {
    const binary = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    const transport: SshTransport = {
      kind: 'cli',
      binaryPath: binary.path,
      connection: fixture.harness.connection,
      owner: 'alice',
      workspace: 'alpha',
    };
    const channel = await openSshEchoChannel({ transport, bytesPerTick: 1024 });
    await waitFor(() => fixture.harness.sessions.ssh === 1, 'ssh session counted');
    await echoRoundTrip(channel, [1024, 1024, 7, 5000]);
    const closes: Array<{ expected: boolean }> = [];
    channel.onClose((info) => closes.push(info));
    await channel.close();
    assert.deepStrictEqual(
      closes.map((c) => c.expected),
      [true],
    );
    await waitFor(() => fixture.harness.sessions.ssh === 0, 'ssh session released');
  });

  it('names the agent to the CLI as <owner>/<workspace>[.<agent>]', () => {
    assert.strictEqual(coderSshTarget('alice', 'alpha', 'main'), 'alice/alpha.main');
    assert.strictEqual(coderSshTarget('alice', 'alpha'), 'alice/alpha');
  });

  it('explains a CLI failure (401) without revealing the token', async () => {
    const binary = await ensureCoderBinary({ connection: fixture.harness.connection, cacheDir: fixture.cacheDir });
    const connection = { url: fixture.harness.url, token: 'bad-token-0123456789' };
    await assert.rejects(
      openSshEchoChannel({
        transport: { kind: 'cli', binaryPath: binary.path, connection, owner: 'alice', workspace: 'alpha' },
        bytesPerTick: 64,
      }),
      (error: unknown) => error instanceof SshChannelError && /HTTP 401/.test(error.message) && !error.message.includes('bad-token'),
    );
    await assert.rejects(
      openSshEchoChannel({
        transport: { kind: 'cli', binaryPath: binary.path, connection: fixture.harness.connection, owner: 'alice', workspace: 'nope' },
        bytesPerTick: 64,
      }),
      /HTTP 404: Workspace not found/,
    );
  });

  it('says when the CLI cannot start (missing binary, or no node for the simulated CLI)', async () => {
    const transport = (binaryPath: string): SshTransport => ({
      kind: 'cli',
      binaryPath,
      connection: fixture.harness.connection,
      owner: 'alice',
      workspace: 'alpha',
    });
    await assert.rejects(
      openSshEchoChannel({ transport: transport(path.join(fixture.cacheDir, 'missing-coder')), bytesPerTick: 64 }),
      /cannot run the coder CLI .*missing-coder: spawn .*ENOENT$/,
    );
    const noInterpreter = path.join(fixture.cacheDir, 'needs-interpreter');
    fs.writeFileSync(noInterpreter, '#!/nonexistent/interpreter\n', { mode: 0o755 });
    await assert.rejects(openSshEchoChannel({ transport: transport(noInterpreter), bytesPerTick: 64 }), /interpreter was not found/);
  });

  it('echoes over direct TCP, picking the agent from the user name', async () => {
    const { host, port } = await fixture.harness.services.listenDirectSsh();
    const channel = await openSshEchoChannel({ transport: { kind: 'tcp', host, port, username: 'alice/beta' }, bytesPerTick: 512 });
    await echoRoundTrip(channel, [512, 512, 100]);
    await channel.close();
    await assert.rejects(
      openSshEchoChannel({ transport: { kind: 'tcp', host, port, username: 'nobody/none' }, bytesPerTick: 512 }),
      SshChannelError,
    );
  });

  it('answers other commands with exit 127 and SIGHUP ends the echo', async () => {
    const { host, port } = await fixture.harness.services.listenDirectSsh();
    const client = new Client();
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', reject);
      client.connect({ host, port, username: 'alice/alpha', hostVerifier: () => true });
    });
    const exitOf = (command: string, hangUp: boolean) =>
      new Promise<{ code: number | null; signal?: string }>((resolve, reject) =>
        client.exec(command, (error, stream) => {
          if (error) return reject(error);
          stream.resume();
          stream.stderr.resume();
          stream.on('exit', (code: number | null, signal?: string) => resolve({ code, signal }));
          if (hangUp) stream.signal('HUP');
        }),
      );
    assert.deepStrictEqual(await exitOf('ls -la', false), { code: 127, signal: undefined });
    assert.deepStrictEqual(await exitOf('dd if=/dev/stdin of=/dev/stdout bs=8 status=none', true), { code: null, signal: 'SIGHUP' });
    client.end();
  });
});
