// The one HTTP request helper: answers, deadline, abort and network errors, each handled once.
import * as assert from 'assert';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { httpRequest, HttpTimeoutError, openHttpResponse } from '../../../src/coder/httpRequest';

describe('httpRequest helper', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      if (req.url === '/stall') {
        res.writeHead(200);
        res.write('partial');
        return; // then silence
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.writeHead(201, { 'X-Method': req.method ?? '' }).end(Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends the body and returns status, headers and the whole body', async () => {
    const response = await httpRequest({ url: `${base}/echo`, method: 'POST', body: 'hello', timeoutMs: 5000 });
    assert.strictEqual(response.status, 201);
    assert.strictEqual(response.headers['x-method'], 'POST');
    assert.strictEqual(response.body.toString(), 'hello');
  });

  it('fails with HttpTimeoutError when no whole answer arrives within the deadline', async () => {
    await assert.rejects(
      httpRequest({ url: `${base}/slow`, timeoutMs: 200 }),
      (error: unknown) => error instanceof HttpTimeoutError && /no answer within 200 ms/.test(error.message),
    );
    await assert.rejects(httpRequest({ url: `${base}/stall`, timeoutMs: 200 }), HttpTimeoutError);
  });

  it("rejects with the caller's abort reason, before or during the request", async () => {
    const reason = new Error('stage stopped');
    await assert.rejects(
      httpRequest({ url: `${base}/echo`, timeoutMs: 5000, signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
    const controller = new AbortController();
    const pending = httpRequest({ url: `${base}/slow`, timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(pending, (error) => error === reason);
  });

  it('passes network errors through with their code, and streams with an idle timeout', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      httpRequest({ url: `http://127.0.0.1:${port}/`, timeoutMs: 5000 }),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
    const stream = await openHttpResponse({ url: `${base}/stall`, idleTimeoutMs: 200 });
    assert.strictEqual(stream.statusCode, 200);
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
      HttpTimeoutError,
    );
  });
});
