import * as assert from 'assert';
import { randomBytes } from 'crypto';
import { appRequest, appUrl, openAppEchoChannel } from '../../../../src/coder/apps';
import { WebSocketDialError } from '../../../../src/coder/wsDial';
import { Collector, type Harness, startHarness, waitFor } from './harness';

const target = { owner: 'alice', workspace: 'alpha', agent: 'main', slug: 'wsec' };

describe('data plane: workspace apps', () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => harness.close());

  it('builds path-based and subdomain URLs with the trailing slash', () => {
    assert.strictEqual(appUrl('https://coder.example.com', target), 'https://coder.example.com/@alice/alpha.main/apps/wsec/');
    assert.strictEqual(appUrl('https://example.com/coder/', target), 'https://example.com/coder/@alice/alpha.main/apps/wsec/');
    // The subdomain is coderd's own label for the app (subdomain_name), only for subdomain apps.
    const subdomain = { subdomainHost: '*.apps.example.com:8443', subdomainName: 'wsec--alpha--alice' };
    assert.strictEqual(
      appUrl('https://coder.example.com', { ...target, ...subdomain }),
      'https://wsec--alpha--alice.apps.example.com:8443/',
    );
    assert.strictEqual(
      appUrl('https://coder.example.com', { ...target, subdomainHost: '*.apps.example.com' }),
      'https://coder.example.com/@alice/alpha.main/apps/wsec/',
    );
    assert.throws(
      () => appUrl('https://coder.example.com', { ...target, ...subdomain, subdomainHost: 'apps.example.com' }),
      /must start with "\*"/,
    );
  });

  it('echoes HTTP requests and follows the 307 that adds the trailing slash', async () => {
    const base = appUrl(harness.url, target);
    const withoutSlash = base.slice(0, -1);
    const redirected = await appRequest({ connection: harness.connection, url: withoutSlash, maxRedirects: 0 }).catch(
      (error: Error) => error,
    );
    assert.match(String(redirected), /redirected more than 0 times/);
    const get = await appRequest({ connection: harness.connection, url: withoutSlash });
    assert.strictEqual(get.status, 200);
    assert.strictEqual(get.url, base);
    assert.strictEqual(get.body.toString(), 'GET /\n');
    const body = randomBytes(3000);
    const post = await appRequest({ connection: harness.connection, url: `${base}echo?x=1`, method: 'POST', body });
    assert.strictEqual(post.status, 200);
    assert.strictEqual(post.headers['x-echo-method'], 'POST');
    assert.strictEqual(post.headers['x-echo-path'], '/echo?x=1');
    assert.deepStrictEqual(post.body, body);
    const unknown = await appRequest({ connection: harness.connection, url: appUrl(harness.url, { ...target, slug: 'nope' }) });
    assert.strictEqual(unknown.status, 404);
  });

  it('echoes binary WebSocket frames exactly and counts the session', async () => {
    const channel = await openAppEchoChannel({ connection: harness.connection, ...target });
    await waitFor(() => harness.sessions.app === 1, 'app session counted');
    const out = new Collector();
    channel.onData(out.push);
    const sent = [randomBytes(1024), randomBytes(1024), randomBytes(10)];
    for (const payload of sent) channel.send(payload);
    await waitFor(() => out.bytes.length >= 2058, 'app echo');
    assert.deepStrictEqual(out.bytes, Buffer.concat(sent));
    const closes: Array<{ expected: boolean; code?: number }> = [];
    channel.onClose((info) => closes.push(info));
    await channel.close();
    assert.deepStrictEqual(closes, [{ expected: true, code: 1000, reason: 'close code 1000' }]);
    await waitFor(() => harness.sessions.app === 0, 'app session released');
  });

  it('reports a refused app WebSocket with its status', async () => {
    await assert.rejects(
      openAppEchoChannel({ connection: { url: harness.url, token: 'nope' }, ...target }),
      (error: unknown) => error instanceof WebSocketDialError && error.status === 401,
    );
  });
});
