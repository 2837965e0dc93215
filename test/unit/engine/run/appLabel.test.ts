import * as assert from 'assert';
import { appLabelProblem } from '../../../../src/engine/run/naming';

describe('engine: subdomain app labels as each coderd release forms them (issue 24 item 3)', () => {
  // wsec--scaletest-abcdefxxxxxx-1--scaletest-xxxxxxxx-abcdefxxxxxx: 63 characters.
  it('fits the newer form exactly, not the older one with the agent name', () => {
    assert.strictEqual(appLabelProblem('wsec', 'abcdef', 2), undefined);
    assert.match(
      appLabelProblem('wsec', 'abcdef', 2, { agentName: 'main' }) ?? '',
      /up to 69 characters .*template's agent name \("main"\)/,
    );
  });

  it('counts a *--suffix wildcard into the same DNS label; a plain *. wildcard adds nothing', () => {
    assert.strictEqual(appLabelProblem('wsec', 'abcdef', 2, { wildcardHost: '*.apps.example.com:8443' }), undefined);
    assert.match(
      appLabelProblem('wsec', 'abcdef', 2, { wildcardHost: '*--apps.example.com' }) ?? '',
      /up to 69 characters \("wsec--<workspace>--<user>--apps"\)/,
    );
  });
});
