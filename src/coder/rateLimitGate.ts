// The client's side of coderd's rate limits (coderd/httpmw/ratelimit.go over go-chi/httprate):
// a bucket is a URL path (plus the user or the client IP, depending on the release), counted in
// one-minute sliding windows. The gate learns a path's limit from X-Ratelimit-Limit and from
// 429s with Retry-After (which coderd sets to the window length), then paces further requests to
// that path just under the limit instead of firing them into refusal after refusal. It is shared
// by a client and its withToken() siblings, so every request from this runner to the same path
// queues in one line — the way coderd counted them before it keyed by user.

/** A little under the limit: httprate refuses when round(rate) + 1 > limit. */
const PACE_FRACTION = 0.95;
/** Start pacing a path before the first refusal once this little of its budget is left. */
const LOW_REMAINING_FRACTION = 0.05;
const DEFAULT_WINDOW_MS = 60_000;

interface Bucket {
  limit: number;
  windowMs: number;
  /** The earliest time the next request to this path may start. */
  nextAt: number;
  paced: boolean;
}

export interface RateLimitState {
  /** Paths that answered 429 or ran low, with the limit learnt for each. */
  limitedPaths: Array<{ path: string; limit: number; windowMs: number }>;
  /** Wall-clock time during which at least one request waited for a rate limit, ms. */
  heldBackMs: number;
  /** Requests refused with 429. */
  refusals: number;
}

export class RateLimitGate {
  private readonly buckets = new Map<string, Bucket>();
  private waiting = 0;
  private waitingSince = 0;
  private heldBack = 0;
  private refusalCount = 0;
  /** coderd's window as its Retry-After told it (all its limiters use one length); unknown before a 429. */
  private learntWindowMs: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** Waits for this path's next slot when the path is paced; resolves at once otherwise. */
  async before(path: string, sleep: (ms: number) => Promise<void>): Promise<void> {
    const bucket = this.buckets.get(path);
    if (!bucket?.paced) return;
    const now = this.now();
    const slot = Math.max(now, bucket.nextAt);
    bucket.nextAt = slot + bucket.windowMs / (bucket.limit * PACE_FRACTION);
    if (slot > now) await this.held(() => sleep(slot - now));
  }

  /** Learns from an answer's rate-limit headers; returns how long to wait before retrying a 429. */
  after(path: string, status: number, headers: Record<string, string | string[] | undefined>): number | undefined {
    const limit = numberHeader(headers['x-ratelimit-limit']);
    const remaining = numberHeader(headers['x-ratelimit-remaining']);
    const retryAfterMs = (numberHeader(headers['retry-after']) ?? 0) * 1000;
    let bucket = this.buckets.get(path);
    if (status === 429) {
      this.refusalCount++;
      // Without coderd's headers (a proxy's 429) there is no limit to pace by: honour Retry-After only.
      if (limit === undefined && !bucket) return retryAfterMs > 0 ? retryAfterMs : undefined;
      bucket ??= this.bucket(path, limit);
      if (limit !== undefined) bucket.limit = limit;
      // coderd's Retry-After is the window's length.
      if (retryAfterMs > 0) bucket.windowMs = this.learntWindowMs = retryAfterMs;
      bucket.paced = true;
      bucket.nextAt = Math.max(bucket.nextAt, this.now() + (retryAfterMs || bucket.windowMs));
      return bucket.nextAt - this.now();
    }
    // Running low on a path: pace it before its first refusal — once a refusal elsewhere has
    // told the window's length (X-Ratelimit-Reset names the window's end, not its length).
    if (this.learntWindowMs && limit !== undefined && remaining !== undefined && remaining <= limit * LOW_REMAINING_FRACTION) {
      bucket ??= this.bucket(path, limit);
      bucket.limit = limit;
      bucket.windowMs = this.learntWindowMs;
      bucket.paced = true;
    }
    return undefined;
  }

  /** Runs a wait, counting the wall-clock time some request was held back. */
  async held<T>(wait: () => Promise<T>): Promise<T> {
    if (this.waiting++ === 0) this.waitingSince = this.now();
    try {
      return await wait();
    } finally {
      if (--this.waiting === 0) this.heldBack += this.now() - this.waitingSince;
    }
  }

  state(): RateLimitState {
    const heldBackMs = this.heldBack + (this.waiting > 0 ? this.now() - this.waitingSince : 0);
    return {
      limitedPaths: [...this.buckets.entries()]
        .filter(([, bucket]) => bucket.paced)
        .map(([path, bucket]) => ({ path, limit: bucket.limit, windowMs: bucket.windowMs })),
      heldBackMs,
      refusals: this.refusalCount,
    };
  }

  private bucket(path: string, limit: number | undefined): Bucket {
    const bucket: Bucket = { limit: limit ?? 1, windowMs: DEFAULT_WINDOW_MS, nextAt: 0, paced: false };
    this.buckets.set(path, bucket);
    return bucket;
  }
}

function numberHeader(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text === '') return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}
