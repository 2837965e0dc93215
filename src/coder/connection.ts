// How to reach a deployment: shared by the REST client, the PTY socket, the SSH transport and
// the app client, so TLS options are honoured everywhere (WebSockets included).
import * as fs from 'fs';
import * as https from 'https';
import type { LookupFunction } from 'net';

export interface TlsOptions {
  /** Extra CA certificate(s) in PEM, trusted in addition to the system store. */
  caFile?: string;
  /** Skip certificate verification. Opt-in only; never the default. */
  insecure?: boolean;
}

export interface DeploymentConnection {
  /** Access URL of the deployment, e.g. https://coder.example.com (no trailing /api/v2). */
  url: string;
  /** Session token sent as `Coder-Session-Token`. Never logged. */
  token?: string;
  tls?: TlsOptions;
  /**
   * Name resolution for HTTP and WebSocket connections instead of the system's DNS (like curl's
   * --resolve): for a runner without wildcard DNS for the app host. Tests resolve *.localhost.
   */
  lookup?: LookupFunction;
}

/** Connection options for http(s).request and ws: TLS settings and the custom lookup, if any. */
export function socketOptions(connection: DeploymentConnection): https.RequestOptions {
  return { ...tlsRequestOptions(connection.tls), ...(connection.lookup ? { lookup: connection.lookup } : {}) };
}

/** TLS settings for https.request / ws / fetch-like calls; undefined for plain HTTP. */
export function tlsRequestOptions(tls: TlsOptions | undefined): https.RequestOptions {
  if (!tls) return {};
  const options: https.RequestOptions = {};
  if (tls.caFile) {
    // Node replaces the default store when `ca` is set, so add the system roots back.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when a CA file is set
    const tlsModule = require('tls') as typeof import('tls');
    options.ca = [...tlsModule.rootCertificates, fs.readFileSync(tls.caFile, 'utf8')];
  }
  if (tls.insecure) options.rejectUnauthorized = false;
  return options;
}
