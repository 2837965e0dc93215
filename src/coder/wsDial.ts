// Opens a WebSocket to a deployment the way the data plane needs it: session token as a
// header, TLS options honoured, no compression and no subprotocol (as coderd expects), and a
// refused upgrade reported with its HTTP status and Coder's {message, detail}.
import * as http from 'http';
import WebSocket from 'ws';
import { type DeploymentConnection, socketOptions } from './connection';

/** A WebSocket upgrade the deployment refused or that never completed. */
export class WebSocketDialError extends Error {
  constructor(
    message: string,
    /** HTTP status of the refused upgrade, when the server answered. */
    readonly status?: number,
    /** The refusal's Retry-After (a rate limit's window), ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WebSocketDialError';
  }
}

export interface DialOptions {
  connection: DeploymentConnection;
  /** Path and query below the access URL, e.g. `/api/v2/workspaceagents/ID/pty?...`. */
  path: string;
  signal?: AbortSignal;
  handshakeTimeoutMs?: number;
  /** Largest frame accepted from the server. */
  maxPayload?: number;
  /**
   * Attach listeners here: it runs before the handshake, so frames the server sends right
   * after the upgrade (e.g. a PTY replay) cannot be missed.
   */
  onCreated?(socket: WebSocket): void;
}

/** The ws:// or wss:// URL for a path below the access URL. */
export function webSocketUrl(connection: DeploymentConnection, path: string): string {
  const base = new URL(connection.url);
  const url = new URL(path, base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else throw new WebSocketDialError(`Deployment URL ${connection.url} must start with http:// or https://`);
  return url.toString();
}

/** Resolves with an open socket; rejects with WebSocketDialError. */
export function dialWebSocket(options: DialOptions): Promise<WebSocket> {
  const { connection, signal } = options;
  const url = webSocketUrl(connection, options.path);
  const where = new URL(url).pathname;
  return new Promise<WebSocket>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new WebSocketDialError(`Connecting to ${where} was cancelled`));
      return;
    }
    const headers: Record<string, string> = {};
    if (connection.token) headers['Coder-Session-Token'] = connection.token;
    const socket = new WebSocket(url, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: options.handshakeTimeoutMs ?? 30_000,
      maxPayload: options.maxPayload ?? 100 * 1024 * 1024,
      ...socketOptions(connection),
    });
    socket.binaryType = 'nodebuffer';
    options.onCreated?.(socket);
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        socket.terminate();
        reject(error);
      } else resolve(socket);
    };
    const onAbort = () => finish(new WebSocketDialError(`Connecting to ${where} was cancelled`));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('open', () => finish());
    socket.once('error', (error: Error) => finish(new WebSocketDialError(`Cannot open a WebSocket to ${where}: ${error.message}`)));
    socket.once('unexpected-response', (_request: http.ClientRequest, response: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', () => {});
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const retryAfter = Number(response.headers['retry-after']);
        finish(
          new WebSocketDialError(
            `The deployment refused the WebSocket to ${where}: HTTP ${status}${describeCoderError(Buffer.concat(chunks))}`,
            status,
            Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
          ),
        );
      });
    });
  });
}

/** `: message (detail)` from a Coder error body, or a short excerpt of any other body. */
export function describeCoderError(body: Buffer): string {
  const text = body.toString('utf8').trim();
  if (!text) return '';
  try {
    const parsed = JSON.parse(text) as { message?: unknown; detail?: unknown };
    if (typeof parsed.message === 'string') {
      return `: ${parsed.message}${typeof parsed.detail === 'string' && parsed.detail ? ` (${parsed.detail})` : ''}`;
    }
  } catch {
    // Not JSON: fall through to the excerpt.
  }
  return `: ${text.slice(0, 200)}`;
}

/** Refusals worth another try: a rate limit (429) or an app that is still starting (502, 503, 504). */
export const RETRYABLE_OPEN = new Set([429, 502, 503, 504]);

/** How long to wait before opening again after `error`, or undefined when it will not pass. */
export type RetryDelay = (error: unknown, attempt: number) => number | undefined;

/** A WebSocket refusal worth another try: its Retry-After, else a backoff from 250 ms to 4 s. */
export const webSocketRetryDelay: RetryDelay = (error, attempt) =>
  error instanceof WebSocketDialError && error.status !== undefined && RETRYABLE_OPEN.has(error.status)
    ? (error.retryAfterMs ?? Math.min(4000, 250 * 2 ** attempt))
    : undefined;

/**
 * Opens, and opens again after a refusal that may pass (a rate limit's window, an app still
 * starting), until `budgetMs` is spent; the last refusal is thrown. `retryDelay` says which
 * errors are refusals and how long to wait (default: WebSocket refusals, see above).
 */
export async function openWithRetries<T>(
  open: () => Promise<T>,
  budgetMs: number,
  signal?: AbortSignal,
  retryDelay: RetryDelay = webSocketRetryDelay,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const waitMs = retryDelay(error, attempt);
      if (waitMs === undefined || signal?.aborted || Date.now() + waitMs >= deadline) throw error;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  }
}
