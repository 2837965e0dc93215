// coderd's rate limits (coderd/httpmw/ratelimit.go over go-chi/httprate, wired in coderd/coderd.go):
// - httprate's sliding-window counter: windows aligned to the clock (now truncated to the window),
//   rate = previous window's count × the part of it still in view + this window's count; a
//   request is refused when round(rate) + 1 > limit, and refused requests are not counted.
//   Headers X-Ratelimit-Limit/-Remaining/-Reset on every limited request; a refusal adds
//   Retry-After = the window length (always 60 s in coderd), not the time left.
// - The bucket is (user id, or the client IP) × the URL path (KeyByEndpoint; no query).
// - Before coder/coder#20857 was fixed (PR #22049) the limiter ran before the API key was read:
//   every request is keyed by IP + path and X-Coder-Bypass-Ratelimit is never looked at
//   (`keying: 'ip'`). After it (`'user'`): keyed by the user when the token is valid; an owner's
//   bypass header skips the limit; anyone else's gets 428 with httprate's plain-text error.
// - A limit <= 0 is no limiter at all (CODER_API_RATE_LIMIT=-1, --dangerous-disable-rate-limits).
// The login limit (60 per minute, not configurable in coderd) uses the same limiter; a login
// carries no API key, so it is keyed by IP + path in every version.
import type * as http from 'http';
import { HttpError } from '../http/errors';
import type { SimUser } from '../store';

export const RATE_LIMIT_WINDOW_MS = 60_000;

export type RateLimitKeying = 'ip' | 'user';

export interface RateLimitSettings {
  /** Requests per window per bucket; <= 0 disables the limiter (coderd: -1). */
  limit: number;
  /** coderd's is one minute; tests shorten it. */
  windowMs?: number;
  keying: RateLimitKeying;
  /** For tests: the clock. */
  now?: () => number;
}

export interface RateVerdict {
  /** X-Ratelimit-* headers (and Retry-After when refused). */
  headers: Record<string, string>;
  error?: HttpError;
}

interface Counter {
  window: number;
  current: number;
  previous: number;
}

/** Go's time.Duration String() for whole seconds/minutes, as coderd's 429 message prints the window. */
function goDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m${seconds % 60}s` : `${seconds}s`;
}

export class RateLimiter {
  private readonly counters = new Map<string, Counter>();
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Requests refused so far (for tests and the simulator's stats). */
  refused = 0;

  constructor(private readonly settings: RateLimitSettings) {
    this.windowMs = settings.windowMs ?? RATE_LIMIT_WINDOW_MS;
    this.now = settings.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.settings.limit > 0;
  }

  /** The bucket a request lands in, or undefined when it is not limited (owner bypass after the fix). */
  bucketOf(req: http.IncomingMessage, path: string, user: SimUser | undefined): string | HttpError | undefined {
    const ip = req.socket.remoteAddress ?? 'unknown';
    if (this.settings.keying === 'ip' || !user) return `${ip}:${path}:`;
    if (parseBool(req.headers['x-coder-bypass-ratelimit'])) {
      if (user.owner) return undefined;
      return new HttpError(428, '"X-Coder-Bypass-Ratelimit" provided but user is not owner\n');
    }
    return `${user.id}:${path}:`;
  }

  check(req: http.IncomingMessage, path: string, user: SimUser | undefined): RateVerdict {
    const limit = this.settings.limit;
    if (limit <= 0) return { headers: {} };
    const bucket = this.bucketOf(req, path, user);
    if (bucket instanceof HttpError) return { headers: {}, error: bucket };
    const nowMs = this.now();
    const window = Math.floor(nowMs / this.windowMs) * this.windowMs;
    const headers: Record<string, string> = {
      'X-Ratelimit-Limit': String(limit),
      'X-Ratelimit-Reset': String(Math.floor((window + this.windowMs) / 1000)),
    };
    // The owner's bypass: httprate gets a random key, so the request passes with fresh headers.
    if (bucket === undefined) return { headers: { ...headers, 'X-Ratelimit-Remaining': String(limit - 1) } };
    const counter = this.counter(bucket, window);
    const rate = Math.round((counter.previous * (this.windowMs - (nowMs - window))) / this.windowMs + counter.current);
    if (rate + 1 > limit) {
      this.refused++;
      headers['X-Ratelimit-Remaining'] = String(limit - rate);
      return {
        headers,
        error: new HttpError(
          429,
          `You've been rate limited for sending more than ${limit} requests in ${goDuration(this.windowMs)}.`,
          undefined,
          undefined,
          { ...headers, 'Retry-After': String(Math.round(this.windowMs / 1000)) },
        ),
      };
    }
    counter.current++;
    headers['X-Ratelimit-Remaining'] = String(limit - rate - 1);
    return { headers };
  }

  private counter(bucket: string, window: number): Counter {
    if (this.counters.size > 10_000) {
      // Keys include the path (build ids, ...): drop buckets idle for two windows so long runs stay bounded.
      for (const [key, stale] of this.counters) if (window - stale.window >= 2 * this.windowMs) this.counters.delete(key);
    }
    let counter = this.counters.get(bucket);
    if (!counter) {
      counter = { window, current: 0, previous: 0 };
      this.counters.set(bucket, counter);
    } else if (counter.window !== window) {
      counter.previous = window - counter.window === this.windowMs ? counter.current : 0;
      counter.current = 0;
      counter.window = window;
    }
    return counter;
  }
}

/** strconv.ParseBool, which the bypass header goes through. */
function parseBool(value: string | string[] | undefined): boolean {
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text);
}
