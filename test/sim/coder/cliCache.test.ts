import * as assert from 'assert';
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { coderBinaryName, ensureCoderBinary } from '../../../src/coder/cliCache';
import { openSshEchoChannel } from '../../../src/coder/ssh';

/** A real HTTP server on loopback serving one "binary" the way coderd does (ETag = quoted SHA-1). */
async function binaryServer(
  body: () => Buffer,
  etagOf: (bytes: Buffer) => string = (bytes) => `"${createHash('sha1').update(bytes).digest('hex')}"`,
) {
  const requests: Array<{ ifNoneMatch?: string }> = [];
  const server = http.createServer((req, res) => {
    const bytes = body();
    const etag = etagOf(bytes);
    requests.push({ ifNoneMatch: req.headers['if-none-match'] });
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { ETag: etag }).end();
    res.writeHead(200, { ETag: etag, 'Content-Length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('coder CLI cache hardening', function () {
  this.timeout(20_000);
  let cacheDir: string;
  beforeEach(() => (cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-cache-'))));
  afterEach(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it('a corrupt cached binary is not revalidated with its ETag (no 304 trusted) but fetched afresh', async () => {
    const content = Buffer.from('#!/bin/sh\necho fine\n');
    const server = await binaryServer(() => content);
    try {
      const first = await ensureCoderBinary({ connection: { url: server.url, token: 't' }, cacheDir });
      assert.strictEqual(first.outcome, 'downloaded');
      const second = await ensureCoderBinary({ connection: { url: server.url, token: 't' }, cacheDir });
      assert.strictEqual(second.outcome, 'reused');
      fs.writeFileSync(first.path, 'garbage');
      const third = await ensureCoderBinary({ connection: { url: server.url, token: 't' }, cacheDir });
      assert.strictEqual(third.outcome, 'downloaded');
      assert.deepStrictEqual(fs.readFileSync(third.path), content);
      assert.strictEqual(server.requests[2]!.ifNoneMatch, undefined, 'no conditional request for a corrupt copy');
    } finally {
      await server.close();
    }
  });

  it("a download that does not match the deployment's SHA-1 is refused and not cached", async () => {
    const server = await binaryServer(
      () => Buffer.from('truncated'),
      () => `"${'0'.repeat(40)}"`,
    );
    try {
      await assert.rejects(
        ensureCoderBinary({ connection: { url: server.url, token: 't' }, cacheDir }),
        /is corrupt \(SHA-1 [0-9a-f]{40}, the deployment says 0{40}\)/,
      );
      const files = fs.readdirSync(cacheDir, { recursive: true }) as string[];
      assert.ok(!files.some((file) => file.endsWith(coderBinaryName())), `nothing cached: ${files.join(', ')}`);
    } finally {
      await server.close();
    }
  });

  it('a lock file left by a dead process is taken over at once', async () => {
    const content = Buffer.from('#!/bin/sh\n');
    const server = await binaryServer(() => content);
    try {
      const dead = spawn(process.execPath, ['-e', '0']);
      await new Promise((resolve) => dead.once('exit', resolve));
      const dir = path.join(cacheDir, `127.0.0.1_${new URL(server.url).port}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${coderBinaryName()}.lock`), String(dead.pid));
      const controller = new AbortController();
      // Without the pid check this waits 5 minutes for the lock to age; the abort makes that a failure.
      const timer = setTimeout(() => controller.abort(), 5000);
      const binary = await ensureCoderBinary({ connection: { url: server.url, token: 't' }, cacheDir, signal: controller.signal });
      clearTimeout(timer);
      assert.strictEqual(binary.outcome, 'downloaded');
    } finally {
      await server.close();
    }
  });

  it('a binary over plain http from another host is refused unless the user opts in', async () => {
    await assert.rejects(
      ensureCoderBinary({ connection: { url: 'http://coder.example.invalid', token: 't' }, cacheDir, allowPlainHttp: false }),
      /Refusing to download and run the coder CLI from http:\/\/coder\.example\.invalid over plain http.*CODER_SCALETEST_ALLOW_HTTP_DOWNLOAD=1/,
    );
    // Opting in gets as far as the network (which fails here: the host does not resolve).
    await assert.rejects(
      ensureCoderBinary({ connection: { url: 'http://coder.example.invalid', token: 't' }, cacheDir, allowPlainHttp: true }),
      /Cannot download the coder CLI/,
    );
  });

  it("an SSH failure through the CLI keeps the CLI's stderr and exit code", async () => {
    const fake = path.join(cacheDir, 'coder');
    fs.writeFileSync(fake, '#!/bin/sh\necho "error: workspace agent is not connected (fake CLI)" >&2\nexit 7\n', { mode: 0o755 });
    await assert.rejects(
      openSshEchoChannel({
        transport: {
          kind: 'cli',
          binaryPath: fake,
          connection: { url: 'http://127.0.0.1:1', token: 'AAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBB' },
          owner: 'u',
          workspace: 'w',
          agent: 'main',
        },
        bytesPerTick: 16,
      }),
      /the coder CLI exited with code 7: error: workspace agent is not connected \(fake CLI\)/,
    );
  });
});
