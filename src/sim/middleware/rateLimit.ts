// coderd's rate limits (coderd/httpmw/ratelimit.go, httprate): per user (per IP when
// anonymous) and per request path (KeyByEndpoint), in one-minute windows; owners may bypass
// the API limit with the header. The login limit runs before API-key extraction, so it keys
// on the IP alone and cannot be bypassed.
import type * as http from 'http';
import { HttpError } from '../http/errors';
import type { SimUser } from '../store';

const WINDOW_MS = 60_000;

export interface RateVerdict {
  /** X-Ratelimit-* headers (and Retry-After when refused). */
  headers: Record<string, string>;
  error?: HttpError;
}

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limitPerMinute: number,
    /** `ip`: key on the client address alone (coderd's login limit). */
    private readonly keyBy: 'user' | 'ip' = 'user',
  ) {}

  check(req: http.IncomingMessage, url: URL, authenticated: SimUser | undefined): RateVerdict {
    const limit = this.limitPerMinute;
    if (limit <= 0) return { headers: {} };
    const user = this.keyBy === 'user' ? authenticated : undefined;
    if (user && req.headers['x-coder-bypass-ratelimit'] === 'true') {
      if (user.owner) return { headers: {} };
      return { headers: {}, error: new HttpError(428, '"X-Coder-Bypass-Ratelimit" provided but user is not owner') };
    }
    const key = `${user?.id ?? req.socket.remoteAddress ?? 'unknown'} ${url.pathname}`;
    const window = this.count(key);
    const headers: Record<string, string> = {
      'X-Ratelimit-Limit': String(limit),
      'X-Ratelimit-Remaining': String(Math.max(0, limit - window.count)),
      'X-Ratelimit-Reset': String(Math.ceil((window.start + WINDOW_MS) / 1000)),
    };
    if (window.count <= limit) return { headers };
    const retryAfter = String(Math.ceil((window.start + WINDOW_MS - Date.now()) / 1000));
    return {
      headers,
      error: new HttpError(429, `You've been rate limited for sending more than ${limit} requests in 1m0s.`, undefined, undefined, {
        'Retry-After': retryAfter,
      }),
    };
  }

  private count(key: string): { start: number; count: number } {
    const nowMs = Date.now();
    if (this.windows.size > 10_000) {
      // Keys include the path (build ids, ...): drop finished windows so long runs stay bounded.
      for (const [staleKey, stale] of this.windows) if (nowMs - stale.start >= WINDOW_MS) this.windows.delete(staleKey);
    }
    let window = this.windows.get(key);
    if (!window || nowMs - window.start >= WINDOW_MS) {
      window = { start: nowMs, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    return window;
  }
}
