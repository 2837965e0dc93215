import * as assert from 'assert';
import type * as http from 'http';
import { HttpError } from '../../../../src/sim/http/errors';
import { RateLimiter, type RateLimitKeying } from '../../../../src/sim/middleware/rateLimit';
import type { SimUser } from '../../../../src/sim/store';

// Requests as the limiter sees them: the client address and headers only.
function request(ip: string, headers: Record<string, string> = {}): http.IncomingMessage {
  return { socket: { remoteAddress: ip }, headers } as unknown as http.IncomingMessage;
}
const owner = { id: 'owner-id', owner: true } as SimUser;
const alice = { id: 'alice-id', owner: false } as SimUser;
const bob = { id: 'bob-id', owner: false } as SimUser;

function limiter(keying: RateLimitKeying, limit = 3) {
  const clock = { now: 60_000 * 100 };
  return { clock, limiter: new RateLimiter({ limit, windowMs: 60_000, keying, now: () => clock.now }) };
}

describe('simulated coderd: the rate limiter (coderd/httpmw/ratelimit.go over httprate)', () => {
  it('refuses past the limit with 429, Retry-After of the whole window and X-Ratelimit-* headers', () => {
    const { limiter: l } = limiter('user');
    for (let i = 0; i < 3; i++) assert.strictEqual(l.check(request('10.0.0.1'), '/api/v2/users/me', alice).error, undefined);
    const refused = l.check(request('10.0.0.1'), '/api/v2/users/me', alice);
    assert.ok(refused.error instanceof HttpError);
    assert.strictEqual(refused.error.status, 429);
    assert.strictEqual(refused.error.message, "You've been rate limited for sending more than 3 requests in 1m0s.");
    assert.strictEqual(refused.error.headers!['Retry-After'], '60', 'httprate: the window length, not the time left');
    assert.strictEqual(refused.headers['X-Ratelimit-Limit'], '3');
    assert.strictEqual(refused.headers['X-Ratelimit-Remaining'], '0');
    assert.strictEqual(refused.headers['X-Ratelimit-Reset'], String(60 * 101), 'the end of the aligned window');
  });

  it('slides: half a window later half of the last window still counts', () => {
    const { clock, limiter: l } = limiter('user', 4);
    for (let i = 0; i < 4; i++) l.check(request('10.0.0.1'), '/p', alice);
    clock.now += 60_000 + 30_000; // the middle of the next window: 4 × ½ = 2 still count
    assert.strictEqual(l.check(request('10.0.0.1'), '/p', alice).error, undefined);
    assert.strictEqual(l.check(request('10.0.0.1'), '/p', alice).error, undefined);
    assert.strictEqual(l.check(request('10.0.0.1'), '/p', alice).error?.status, 429);
    clock.now += 120_000; // two windows on: nothing left to count
    for (let i = 0; i < 4; i++) assert.strictEqual(l.check(request('10.0.0.1'), '/p', alice).error, undefined);
  });

  it('before the fix (keyed by IP + path): users share a bucket from one IP, the owner bypass is ignored', () => {
    const { limiter: l } = limiter('ip', 2);
    assert.strictEqual(l.check(request('10.0.0.1'), '/api/v2/users', alice).error, undefined);
    assert.strictEqual(l.check(request('10.0.0.1'), '/api/v2/users', bob).error, undefined);
    const bypass = { 'x-coder-bypass-ratelimit': 'true' };
    assert.strictEqual(l.check(request('10.0.0.1', bypass), '/api/v2/users', owner).error?.status, 429);
    assert.strictEqual(l.check(request('10.0.0.2'), '/api/v2/users', owner).error, undefined, 'another IP has its own bucket');
    assert.strictEqual(l.check(request('10.0.0.1'), '/api/v2/other', owner).error, undefined, 'another path has its own bucket');
  });

  it('after the fix (keyed by user): each user has a bucket; an owner may bypass, anyone else gets 428 in plain text', () => {
    const { limiter: l } = limiter('user', 1);
    assert.strictEqual(l.check(request('10.0.0.1'), '/api/v2/users/me', alice).error, undefined);
    assert.strictEqual(l.check(request('10.0.0.1'), '/api/v2/users/me', bob).error, undefined);
    assert.strictEqual(l.check(request('10.0.0.1'), '/api/v2/users/me', alice).error?.status, 429);
    const bypass = { 'x-coder-bypass-ratelimit': 'true' };
    for (let i = 0; i < 5; i++) assert.strictEqual(l.check(request('10.0.0.1', bypass), '/api/v2/users/me', owner).error, undefined);
    const refused = l.check(request('10.0.0.1', bypass), '/api/v2/users/me', bob).error;
    assert.strictEqual(refused?.status, 428);
    assert.strictEqual(refused?.message, '"X-Coder-Bypass-Ratelimit" provided but user is not owner\n');
    // Without a (valid) key the bucket is the IP's.
    assert.strictEqual(l.check(request('10.0.0.9'), '/api/v2/users/me', undefined).error, undefined);
    assert.strictEqual(l.check(request('10.0.0.9'), '/api/v2/users/me', undefined).error?.status, 429);
  });

  it('a limit of -1 (CODER_API_RATE_LIMIT=-1) is no limiter at all', () => {
    const { limiter: l } = limiter('ip', -1);
    for (let i = 0; i < 100; i++) assert.deepStrictEqual(l.check(request('10.0.0.1'), '/p', alice), { headers: {} });
  });
});
