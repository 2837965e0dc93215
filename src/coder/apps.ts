// Workspace apps as a client: URLs (path-based and subdomain), plain HTTP requests that follow
// coderd's 307 (the trailing-slash redirect), and a binary WebSocket echo channel to an echo app
// (slug `wsec` in the reference template). The session token goes in the Coder-Session-Token
// header, which coderd accepts for app requests.
import type * as http from 'http';
import type WebSocket from 'ws';
import { type DeploymentConnection, socketOptions } from './connection';
import type { EchoChannel, EchoCloseInfo } from './echo';
import { httpRequest, HttpTimeoutError } from './httpRequest';
import { Listeners } from './listeners';
import { dialWebSocket } from './wsDial';

export interface AppTarget {
  owner: string;
  workspace: string;
  agent: string;
  slug: string;
  /**
   * For an app served on its own subdomain (the app's `subdomain` flag): the wildcard app
   * host from GET /api/v2/applications/host (e.g. `*.apps.example.com`, may carry a port) and
   * the app's `subdomain_name`, the label coderd computed for it. Like the reference runner,
   * the subdomain URL is used only when the app itself is a subdomain app.
   */
  subdomainHost?: string;
  subdomainName?: string;
}

/** DNS limits a label (one dot-separated part of a host name) to 63 characters. */
export const DNS_LABEL_MAX = 63;

/**
 * The app's base URL, always ending in '/':
 * path-based `{accessURL}/@{owner}/{workspace}.{agent}/apps/{slug}/` or, for a subdomain app,
 * `{scheme}://{subdomain_name}.{wildcard host}/`.
 */
export function appUrl(accessUrl: string, target: AppTarget): string {
  const base = new URL(accessUrl);
  if (target.subdomainHost && target.subdomainName) {
    const wildcard = target.subdomainHost.trim();
    if (!wildcard.startsWith('*'))
      throw new Error(`The wildcard app host "${wildcard}" must start with "*" (as /api/v2/applications/host reports it).`);
    // Coder also allows a prefix before "--" in the wildcard label (e.g. "*--apps.example.com").
    const label = wildcard.split('.')[0]!.replace('*', target.subdomainName);
    if (label.length > DNS_LABEL_MAX) {
      throw new Error(
        `The app's subdomain "${label}" is ${label.length} characters, over DNS's ${DNS_LABEL_MAX}: no browser or resolver can reach it. Use a shorter runIdPrefix or app slug.`,
      );
    }
    return `${base.protocol}//${wildcard.replace('*', target.subdomainName)}/`;
  }
  const prefix = base.pathname.replace(/\/$/, '');
  const segment = `@${encodeURIComponent(target.owner)}/${encodeURIComponent(target.workspace)}.${encodeURIComponent(target.agent)}/apps/${encodeURIComponent(target.slug)}/`;
  return `${base.origin}${prefix}/${segment}`;
}

export interface AppResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The URL that finally answered (after redirects). */
  url: string;
}

export interface AppRequestOptions {
  connection: DeploymentConnection;
  url: string;
  method?: string;
  body?: Buffer;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Redirects followed (307/308 keep method and body; 301/302/303 become GET). Default 5. */
  maxRedirects?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One HTTP request to an app, following redirects on the same deployment. */
export async function appRequest(options: AppRequestOptions): Promise<AppResponse> {
  let url = new URL(options.url);
  let method = options.method ?? 'GET';
  let body = options.body;
  for (let redirects = 0; ; redirects++) {
    const response = await requestOnce(options, url, method, body);
    const location = response.headers.location;
    if (!REDIRECTS.has(response.status) || !location) return response;
    if (redirects >= (options.maxRedirects ?? 5))
      throw new Error(`${options.url} redirected more than ${options.maxRedirects ?? 5} times; check the app URL.`);
    const next = new URL(location, url);
    // Never send the session token to another host.
    if (next.origin !== url.origin)
      throw new Error(`${url} redirected to another host (${next.origin}); not following it with the session token.`);
    if (response.status !== 307 && response.status !== 308) {
      method = 'GET';
      body = undefined;
    }
    url = next;
  }
}

async function requestOnce(options: AppRequestOptions, url: URL, method: string, body: Buffer | undefined): Promise<AppResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.connection.token) headers['Coder-Session-Token'] = options.connection.token;
  if (body) headers['Content-Length'] = String(body.length);
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    const response = await httpRequest({
      url,
      method,
      headers,
      body,
      signal: options.signal,
      socket: socketOptions(options.connection),
      timeoutMs,
    });
    return { ...response, url: url.toString() };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (error instanceof HttpTimeoutError) throw new Error(`${method} ${url.pathname} got no answer within ${timeoutMs} ms`);
    throw new Error(`${method} ${url.pathname} failed: ${(error as Error).message}`);
  }
}

export interface AppEchoChannelOptions extends AppTarget {
  connection: DeploymentConnection;
  signal?: AbortSignal;
  /** How long close() waits for the close handshake before cutting the socket. Default 30 s. */
  closeTimeoutMs?: number;
}

/**
 * A binary WebSocket to an echo app: each payload goes out as one binary frame and comes back
 * as sent, so onData delivers exactly the bytes sent.
 */
export async function openAppEchoChannel(options: AppEchoChannelOptions): Promise<EchoChannel> {
  const url = new URL(appUrl(options.connection.url, options));
  const dataListeners = new Listeners<[chunk: Buffer]>();
  const closeListeners = new Listeners<[info: EchoCloseInfo]>();
  let closing = false;
  const socket: WebSocket = await dialWebSocket({
    connection: { ...options.connection, url: url.origin },
    path: `${url.pathname}${url.search}`,
    signal: options.signal,
    onCreated: (created) => {
      created.on('message', (data: Buffer) => {
        dataListeners.emit(data);
      });
      created.on('error', () => {
        // 'close' follows and reports it.
      });
    },
  });
  const closed = new Promise<void>((resolve) => {
    socket.once('close', (code: number, reason: Buffer) => {
      const info = {
        expected: closing,
        code,
        reason: reason.toString('utf8') || (code === 1006 ? 'connection dropped without a close frame' : `close code ${code}`),
      };
      closeListeners.emit(info);
      resolve();
    });
  });
  return {
    send: (payload) => {
      if (socket.readyState !== socket.OPEN) throw new Error('The app WebSocket is not open.');
      socket.send(payload, { binary: true });
    },
    sendText: (text) => {
      if (socket.readyState !== socket.OPEN) throw new Error('The app WebSocket is not open.');
      // Still a binary frame, as the Buffer path sends: the same bytes on the wire.
      socket.send(text, { binary: true });
    },
    onData: (listener) => dataListeners.add(listener),
    onClose: (listener) => closeListeners.add(listener),
    close: async () => {
      closing = true;
      if (socket.readyState === socket.OPEN) socket.close(1000);
      const timer = setTimeout(() => socket.terminate(), options.closeTimeoutMs ?? 30_000);
      await closed;
      clearTimeout(timer);
    },
  };
}
