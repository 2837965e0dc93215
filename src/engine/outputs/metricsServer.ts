// Serving a run's registry at `--metrics-address HOST:PORT` (loopback unless an interface is
// named), until a few seconds after the run so the last scrape lands (see prometheus.ts).
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Registry } from 'prom-client';

/** `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (the last two: loopback). */
export function parseMetricsAddress(text: string): { host: string; port: number } {
  const trimmed = text.trim();
  const match =
    /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(trimmed) ?? (/^\d{1,5}$/.test(trimmed) ? [trimmed, undefined, '', trimmed] : null);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new Error(
      `metrics address "${text}": expected HOST:PORT (e.g. 127.0.0.1:9464, 0.0.0.0:9464 for every interface, or :9464 for loopback)`,
    );
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host || '127.0.0.1', port };
}

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  /** Keeps serving for `lingerMs` (the last scrapes), then stops. */
  close(lingerMs?: number): Promise<void>;
}

/** Serves the registry's `/metrics`; fails with a message naming the address when it cannot listen. */
export async function serveMetrics(address: string, registry: Registry): Promise<MetricsServer> {
  const { host, port } = parseMetricsAddress(address);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('coder-scaletest serves /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (error: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `metrics address ${address}: cannot listen (${error.code ?? error.message})${error.code === 'EADDRINUSE' ? '; the port is taken, pick another' : ''}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const hostPart = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${bound.port}/metrics`,
    close: (lingerMs = 0) =>
      (closing ??= new Promise<void>((resolve) => {
        // The listening server keeps the process alive meanwhile.
        setTimeout(() => {
          server.closeAllConnections();
          server.close(() => resolve());
        }, lingerMs);
      })),
  };
}
