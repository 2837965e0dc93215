// How to reach a deployment: shared by the REST client, the PTY socket, the SSH transport and
// the app client, so TLS options are honoured everywhere (WebSockets included).
import * as dns from 'dns';
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

/** Connection options for http(s).request and ws: TLS settings and the name resolution. */
export function socketOptions(connection: DeploymentConnection): https.RequestOptions {
  return { ...tlsRequestOptions(connection.tls), lookup: lookupFor(connection) };
}

/** The connection's own lookup, else the system's with `*.localhost` on loopback. */
export function lookupFor(connection: DeploymentConnection): LookupFunction {
  return connection.lookup ?? localhostAwareLookup;
}

/**
 * The system resolver, except that names under `localhost` are the loopback address, as RFC 6761
 * (6.3) asks resolvers to answer and browsers do: a deployment's wildcard app host
 * `*.apps.localhost` (the simulator's) is then reachable without DNS set-up. glibc alone only
 * resolves `localhost` itself.
 */
export const localhostAwareLookup: LookupFunction = (hostname, options, callback) => {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name !== 'localhost' && !name.endsWith('.localhost')) return dns.lookup(hostname, options, callback);
  const family = options.family === 6 || options.family === 'IPv6' ? 6 : 4;
  const address = family === 6 ? '::1' : '127.0.0.1';
  if (options.all) (callback as (error: null, addresses: dns.LookupAddress[]) => void)(null, [{ address, family }]);
  else callback(null, address, family);
};

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
