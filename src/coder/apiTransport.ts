// The plumbing a CoderClient holds: one HTTP exchange at a time through the shared request
// helper, retries with backoff (honouring Retry-After), coderd error bodies turned into
// CoderApiError with the token scrubbed, followed WebSockets, and every exchange reported
// through `onRequest`. Kept apart from the API methods (client.ts) so each file reads as one thing.
import * as http from 'http';
import * as https from 'https';
import { setTimeout as delay } from 'timers/promises';
import type WebSocket from 'ws';
import type { TSchema } from '@sinclair/typebox';
import { lookupFor, tlsRequestOptions, type DeploymentConnection } from './connection';
import type { EndpointClass } from './endpointClass';
import { abortReason, httpRequest, HttpTimeoutError } from './httpRequest';
import { CoderApiError, DeploymentUnreachableError, RequestTimeoutError } from './errors';
import { RateLimitGate } from './rateLimitGate';
import { apiRoutes, routePath, routeTemplate, type RouteName } from './routes';
import { responseSchemas, type ResponseOf } from './routeSchemas';
import * as S from './schemas';
import { parseAs } from './validate';

export interface RequestInfo {
  method: string;
  /** Templated route, e.g. /api/v2/workspaces/{workspace}. */
  route: string;
  endpointClass: EndpointClass;
  /** HTTP status; absent when no response arrived (network error, timeout). */
  status?: number;
  durationMs: number;
  error?: string;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface CoderClientOptions {
  /** Per-request timeout (whole response), ms. Default 30 000. */
  timeoutMs?: number;
  /**
   * Retries with exponential backoff and full jitter. Only safe cases are retried: reads (GET)
   * on 429, 503 or a network error; writes only on 429 (coderd's rate limiter rejects before
   * the handler runs). Default 3 retries, 250 ms base, 5 s cap.
   */
  retry?: Partial<RetryPolicy>;
  /**
   * The longest `Retry-After` (429/503) the client waits for before retrying, ms. coderd's rate
   * limits use one-minute windows, so the default (60 000) honours every wait coderd asks for;
   * a longer one fails at once instead of retrying early into another refusal.
   */
  maxRetryAfterMs?: number;
  /** Send `X-Coder-Bypass-Ratelimit: true` (honoured for owners only, and only by coderd releases that key limits by user). */
  bypassRateLimit?: boolean;
  /**
   * Where the client learns coderd's rate limits and paces itself under them. Share one gate
   * among every client of a run: before coderd keyed limits by user, all requests from one IP
   * to a path shared a bucket. Default: one per client family (the client and its withToken()s).
   */
  rateLimits?: RateLimitGate;
  /**
   * How long one call may wait in all for rate limits (paced slots and 429s' Retry-After) before
   * it fails, ms. Default 15 minutes; the caller's abort signal still ends it sooner.
   */
  maxRateLimitWaitMs?: number;
  onRequest?(info: RequestInfo): void;
}

interface CallOptions {
  params?: Record<string, string | number>;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Sent as is instead of a JSON body (e.g. a template archive to POST /files). */
  raw?: { contentType: string; data: Buffer };
  signal?: AbortSignal;
  /** The success status coderd answered with (e.g. 201 created vs 200 already there). */
  onStatus?(status: number): void;
}

interface RequestBody {
  data: string | Buffer;
  contentType: string;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const defaultRetry: RetryPolicy = { retries: 3, baseDelayMs: 250, maxDelayMs: 5000 };
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 15 * 60_000;

/** What the client learnt about the deployment's routes, shared by its withToken() clients. */
export interface RouteSupport {
  /** POST /users/{user}/workspaces answered 404 (a coderd from before the route). */
  legacyCreateWorkspace?: boolean;
  /** The family's rate-limit gate when the options name none. */
  rateLimits?: RateLimitGate;
}

export class CoderApiTransport {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly agent: http.Agent;
  /** Read once: the CA file is not re-read for every request. */
  private readonly trust: ReturnType<typeof tlsTrust>;
  /** TLS trust plus the connection's custom lookup, for every request. */
  private readonly socketOptions: https.RequestOptions;
  readonly support: RouteSupport;

  constructor(
    readonly connection: DeploymentConnection,
    private readonly options: CoderClientOptions = {},
    sharedAgent?: http.Agent,
    sharedSupport?: RouteSupport,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(connection.url);
    } catch {
      throw new Error(`"${connection.url}" is not a valid deployment URL; expected e.g. https://coder.example.com`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`deployment URL must start with http:// or https://, got "${connection.url}"`);
    }
    this.baseUrl = parsed.origin + parsed.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = { ...defaultRetry, ...options.retry };
    this.trust = tlsTrust(connection);
    this.socketOptions = { ...this.trust, lookup: lookupFor(connection) };
    this.support = sharedSupport ?? {};
    this.support.rateLimits ??= options.rateLimits ?? new RateLimitGate();
    this.agent =
      sharedAgent ??
      (parsed.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...this.trust }) : new http.Agent({ keepAlive: true }));
  }

  /** The same deployment as another user, sharing options, pooled sockets and what was learnt. */
  withToken(token: string): CoderApiTransport {
    return new CoderApiTransport({ ...this.connection, token }, this.options, this.agent, this.support);
  }

  /** What the client learnt about the deployment's rate limits, and how long they held it back. */
  get rateLimits(): RateLimitGate {
    return this.options.rateLimits ?? this.support.rateLimits!;
  }

  /** Releases pooled keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  // ---- plumbing ----

  /** One API call: paced under the rate limits, retried when safe, its answer checked against the route's schema. */
  async call<N extends RouteName>(name: N, options: CallOptions = {}): Promise<ResponseOf<N>> {
    const schema: TSchema | null = responseSchemas[name];
    const route = apiRoutes[name];
    const template = routeTemplate(name);
    let path = routePath(name, options.params);
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') search.set(key, String(value));
    }
    if ([...search.keys()].length) path += `?${search}`;
    const body: RequestBody | undefined = options.raw
      ? { data: options.raw.data, contentType: options.raw.contentType }
      : options.body === undefined
        ? undefined
        : { data: JSON.stringify(options.body), contentType: 'application/json' };
    const bucketPath = path.split('?')[0]!;
    const gate = this.rateLimits;
    const rateLimitDeadline = Date.now() + (this.options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS);

    for (let attempt = 1, retried = 0; ; attempt++) {
      let response: RawResponse;
      try {
        await gate.before(bucketPath, (ms) => sleep(Math.min(ms, Math.max(0, rateLimitDeadline - Date.now())), options.signal));
        response = await this.attempt(route.method, template, path, route.endpointClass, body, attempt, options.signal);
      } catch (error) {
        if (error instanceof DeploymentUnreachableError && route.method === 'GET' && retried < this.retry.retries) {
          await sleep(this.backoffMs(++retried)!, options.signal);
          continue;
        }
        throw error;
      }
      const rateLimitWaitMs = gate.after(bucketPath, response.status, response.headers);
      if (response.status === 429 && this.retry.retries > 0) {
        // coderd's limiter refuses before the handler runs, so a write is safe to repeat. A
        // refusal is not a failure to count against `retries`: wait for the window (Retry-After,
        // no longer than this client may wait at once) and go on, paced, within the call's budget.
        const retryAfter = this.backoffMs(1, response.headers['retry-after']);
        const waitMs = retryAfter === undefined ? undefined : Math.max(rateLimitWaitMs ?? 0, retryAfter);
        if (waitMs !== undefined && Date.now() + waitMs <= rateLimitDeadline) {
          await gate.held(() => sleep(waitMs, options.signal));
          continue;
        }
      }
      const retryable = route.method === 'GET' && response.status === 503;
      const waitMs = retryable && retried < this.retry.retries ? this.backoffMs(++retried, response.headers['retry-after']) : undefined;
      if (waitMs !== undefined) {
        await sleep(waitMs, options.signal);
        continue;
      }
      if (response.status < 200 || response.status >= 300) {
        throw this.apiError(response.status, route.method, template, response.body);
      }
      options.onStatus?.(response.status);
      if (!schema) return undefined as ResponseOf<N>;
      let json: unknown;
      try {
        json = JSON.parse(response.body);
      } catch {
        throw new Error(`${route.method} ${template}: the deployment answered ${response.status} with a body that is not JSON`);
      }
      return parseAs(schema, json, `${route.method} ${template}`) as ResponseOf<N>;
    }
  }

  /** One HTTP exchange, not retried; reports it through onRequest whatever happens. */
  async attempt(
    method: string,
    route: string,
    path: string,
    endpointClass: EndpointClass,
    body: RequestBody | undefined,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    const started = performance.now();
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (this.connection.token) headers['Coder-Session-Token'] = this.connection.token;
    if (this.options.bypassRateLimit) headers['X-Coder-Bypass-Ratelimit'] = 'true';
    if (body !== undefined) {
      headers['Content-Type'] = body.contentType;
      headers['Content-Length'] = Buffer.byteLength(body.data);
    }
    const report = (status: number | undefined, error: Error | undefined) =>
      this.report({ method, route, endpointClass, status, durationMs: performance.now() - started, error: error?.message, attempt });
    let response: RawResponse;
    try {
      const answer = await httpRequest({
        url: this.baseUrl + path,
        method,
        headers,
        body: body?.data,
        signal,
        agent: this.agent,
        socket: this.socketOptions,
        timeoutMs: this.timeoutMs,
      });
      response = { status: answer.status, headers: answer.headers, body: answer.body.toString('utf8') };
    } catch (error) {
      const failure =
        error instanceof HttpTimeoutError
          ? new RequestTimeoutError(method, route, this.timeoutMs)
          : signal?.aborted
            ? (error as Error)
            : this.networkError(error as NodeJS.ErrnoException);
      report(undefined, failure);
      throw failure;
    }
    // An HTTP error status still resolves (the caller decides on retries); it is reported as an error.
    report(response.status, response.status >= 400 ? this.apiError(response.status, method, route, response.body) : undefined);
    return response;
  }

  private report(info: RequestInfo): void {
    try {
      this.options.onRequest?.(info);
    } catch {
      // A faulty observer must not break requests.
    }
  }

  /** Builds a CoderApiError from coderd's `{message, detail, validations}`, scrubbing the token. */
  apiError(status: number, method: string, route: string, body: string): CoderApiError {
    let message = body.trim().slice(0, 300);
    let detail: string | undefined;
    let validations: S.ValidationError[] = [];
    try {
      const parsed = parseAs(S.Response, JSON.parse(body), `${method} ${route}`);
      message = parsed.message;
      detail = parsed.detail;
      validations = parsed.validations ?? [];
    } catch {
      // Not coderd JSON (a proxy's page, plain text): keep the raw text.
    }
    return new CoderApiError(status, method, route, this.scrub(message), detail && this.scrub(detail), validations);
  }

  private scrub(text: string): string {
    const token = this.connection.token;
    return token ? text.split(token).join('[token]') : text;
  }

  private networkError(error: NodeJS.ErrnoException): Error {
    if (error.name === 'AbortError') return error;
    return new DeploymentUnreachableError(this.baseUrl, error.code ?? 'ERROR', this.scrub(error.message));
  }

  /** How long to wait before the next attempt; undefined when the server asks for longer than we may wait. */
  private backoffMs(attempt: number, retryAfter?: string | string[]): number | undefined {
    const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    if (Number.isFinite(seconds) && seconds > 0) {
      // Retrying before the server's window ends only earns another refusal.
      const waitMs = seconds * 1000;
      return waitMs <= (this.options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS) ? waitMs : undefined;
    }
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.random() * ceiling;
  }

  /**
   * Follows a streaming route over WebSocket (`?follow=true`), each text frame to `onText`, until
   * the server closes the socket or `signal` aborts. The handshake is reported like a request; an
   * `onText` that throws ends the socket, and the call rejects with its error.
   */
  async follow(routeName: RouteName, params: Record<string, string>, onText: (text: string) => void, signal?: AbortSignal): Promise<void> {
    // ws loads with the first socket followed, not with the client (the extension host makes clients at activation).
    const { default: WebSocket } = await import('ws');
    const route = routeTemplate(routeName);
    const endpointClass = apiRoutes[routeName].endpointClass;
    const url = this.wsUrl(routePath(routeName, params) + '?follow=true');
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const started = performance.now();
      let reported = false;
      const socket = new WebSocket(url, { ...this.wsOptions() });
      // One report per socket: the handshake's outcome.
      const report = (status: number | undefined, error?: string) => {
        if (reported) return;
        reported = true;
        this.report({ method: 'GET', route, endpointClass, status, durationMs: performance.now() - started, error, attempt: 1 });
      };
      const onAbort = () => socket.terminate();
      signal?.addEventListener('abort', onAbort, { once: true });
      const finish = (error?: Error) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return reject(abortReason(signal));
        if (error) reject(error);
        else resolve();
      };
      socket.on('upgrade', () => report(101));
      socket.on('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          const error = this.apiError(response.statusCode ?? 0, 'GET', route, body);
          report(response.statusCode, error.message);
          socket.terminate();
          finish(error);
        });
      });
      socket.on('message', (data, isBinary) => {
        if (isBinary) return;
        try {
          onText(data.toString('utf8'));
        } catch (error) {
          socket.terminate();
          finish(error as Error);
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        report(undefined, error.message);
        finish(this.networkError(error));
      });
      socket.on('close', () => finish());
    });
  }

  private wsUrl(path: string): string {
    return this.baseUrl.replace(/^http/, 'ws') + path;
  }

  /** Options for a `ws` WebSocket to this deployment: token header, TLS, handshake timeout. */
  wsOptions(): WebSocket.ClientOptions {
    const headers: Record<string, string> = {};
    if (this.connection.token) headers['Coder-Session-Token'] = this.connection.token;
    if (this.options.bypassRateLimit) headers['X-Coder-Bypass-Ratelimit'] = 'true';
    return {
      headers,
      handshakeTimeout: this.timeoutMs,
      perMessageDeflate: false,
      ...this.trust,
    };
  }
}

/** The trust settings (extra CA, opt-in insecure) for HTTPS requests, agents and WebSockets. */
function tlsTrust(connection: DeploymentConnection): { ca?: https.RequestOptions['ca']; rejectUnauthorized?: boolean } {
  if (!connection.url.startsWith('https:')) return {};
  const { ca, rejectUnauthorized } = tlsRequestOptions(connection.tls);
  return { ...(ca ? { ca } : {}), ...(rejectUnauthorized === false ? { rejectUnauthorized } : {}) };
}

/** Waits `ms`; an abort rejects at once with the caller's reason. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    throw signal?.aborted ? abortReason(signal) : error;
  }
}
