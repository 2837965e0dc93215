import * as assert from 'assert';
import { dispatchMessage, type MessageHandlers, type WebviewToHost } from '../../../src/protocol/messages';
import { normalizeDeploymentUrl } from '../../../src/vscode/deployments/deploymentUrl';
import { SecretRedactor } from '../../../src/vscode/redact';

describe('vscode webview messages and redaction', () => {
  it('dispatches each message type to its handler and ignores anything else', () => {
    const seen: string[] = [];
    const handlers: MessageHandlers<WebviewToHost> = {
      ready: () => seen.push('ready'),
      command: (message) => seen.push(`command:${message.command}`),
      rendered: (message) => seen.push(`rendered:${message.title}:${Object.keys(message.charts).length}`),
    };
    assert.strictEqual(dispatchMessage(handlers, { type: 'ready' }), true);
    assert.strictEqual(dispatchMessage(handlers, { type: 'command', command: 'stopRun' }), true);
    assert.strictEqual(dispatchMessage(handlers, { type: 'rendered', charts: { 'rtt:ssh': 3 }, title: 't' }), true);
    for (const junk of [null, 'ready', 42, {}, { type: 'toString' }, { type: 'constructor' }, { type: 'unknown' }]) {
      assert.strictEqual(dispatchMessage(handlers, junk), false, `should ignore ${JSON.stringify(junk)}`);
    }
    assert.deepStrictEqual(seen, ['ready', 'command:stopRun', 'rendered:t:1']);
  });

  it('redacts known tokens and token-shaped values in text', () => {
    const redactor = new SecretRedactor();
    redactor.add('abcdefgh-0123456789');
    redactor.add('short');
    const text = redactor.redact(
      'token abcdefgh-0123456789 in CODER_SESSION_TOKEN=zzzzzzzz and Coder-Session-Token: yyyyyyyy; short stays',
    );
    assert.strictEqual(text, 'token *** in CODER_SESSION_TOKEN=*** and Coder-Session-Token: ***; short stays');
  });
});

describe('vscode deployment URLs', () => {
  it('normalises what users type into one key per deployment', () => {
    assert.strictEqual(normalizeDeploymentUrl(' https://coder.example.com/ '), 'https://coder.example.com');
    assert.strictEqual(normalizeDeploymentUrl('https://coder.example.com/api/v2'), 'https://coder.example.com');
    assert.strictEqual(normalizeDeploymentUrl('http://127.0.0.1:3000/coder/'), 'http://127.0.0.1:3000/coder');
  });

  it('says what is wrong with a bad URL', () => {
    assert.throws(() => normalizeDeploymentUrl('coder.example.com'), /is not a URL: enter the deployment's access URL/);
    assert.throws(() => normalizeDeploymentUrl('ftp://coder.example.com'), /must start with https:\/\/ or http:\/\//);
  });
});
