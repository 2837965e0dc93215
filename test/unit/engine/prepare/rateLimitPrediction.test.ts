import * as assert from 'assert';
import { predictRateLimits } from '../../../../src/engine/prepare/rateLimitPrediction';

const plan = (users: number, enabled = true) => ({
  users,
  traffic: { ssh: { enabled }, pty: { enabled }, apps: { enabled }, dashboard: { enabled: false, maxBrowsers: 100 } },
});

describe('engine: what a run meets at coderd rate limits (pure prediction for the pre-run check)', () => {
  it('before the fix, 2000 users from one runner need about three to four minutes of user creation alone', () => {
    const prediction = predictRateLimits({ version: 'v2.29.0', plan: plan(2000) as never, subdomainApps: true, sshThroughCli: true });
    assert.strictEqual(prediction.keying, 'ip');
    const creation = prediction.buckets.find((b) => b.path === '/api/v2/users')!;
    assert.strictEqual(creation.requests, 2000);
    assert.ok(Math.abs(creation.minMinutes - (2000 - 512) / 512) < 1e-9, `${creation.minMinutes}`);
    assert.ok(Math.abs(creation.maxMinutes - 2000 / 512) < 1e-9);
    assert.ok(
      prediction.buckets.some((b) => b.stage === 'apps' && b.path.startsWith('/ ')),
      'subdomain apps share `/`',
    );
    assert.ok(
      prediction.buckets.some((b) => b.stage === 'ssh' && b.path === '/api/v2/templateversions/{id}'),
      '`coder ssh` start-ups share the template version',
    );
    assert.match(prediction.findings.join('\n'), /2000 user creation .* at least 2\.9 min \(up to 3\.9 min\)/);
    assert.match(prediction.advice, /CODER_DANGEROUS_DISABLE_RATE_LIMITS=true/);
  });

  it('after the fix buckets are per user (and the owner bypasses): nothing shared', () => {
    const prediction = predictRateLimits({ version: 'v2.35.2+abc', plan: plan(2000) as never, subdomainApps: true });
    assert.strictEqual(prediction.keying, 'user');
    assert.deepStrictEqual(prediction.buckets, []);
    assert.strictEqual(prediction.minMinutes, 0);
  });

  it('says so when the release is not known to key by user (2.31), assuming the stricter IP keying', () => {
    const prediction = predictRateLimits({ version: 'v2.31.4', plan: plan(100) as never });
    assert.strictEqual(prediction.keying, 'uncertain');
    assert.match(prediction.findings.join('\n'), /not known/);
  });

  it('with CODER_API_RATE_LIMIT=-1 nothing is limited', () => {
    const prediction = predictRateLimits({ version: 'v2.20.0', plan: plan(5000) as never, apiRateLimit: -1 });
    assert.deepStrictEqual(prediction.buckets, []);
  });
});
