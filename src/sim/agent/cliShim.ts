// Serves the simulated "coder" CLI (cliShimMain.ts, embedded as text by cliShimSource.ts) at
// /bin/coder-<os>-<arch>[.exe], like coderd serves its CLI binaries: one file per platform
// name, with an ETag for revalidation.
import { createHash } from 'crypto';
import type * as http from 'http';
import { CLI_SHIM_SOURCE } from './cliShimSource';

export { CLI_SHIM_VERSION } from './cliShimVersion';

const SHIM_BYTES = Buffer.from(CLI_SHIM_SOURCE, 'utf8');
/** Quoted SHA1 of the content, as coderd serves its binaries. */
export const CLI_SHIM_ETAG = `"${createHash('sha1').update(SHIM_BYTES).digest('hex')}"`;

const BINARY_NAME = /^coder-(linux|darwin|windows)-(amd64|arm64|armv7)(\.exe)?$/;

/** GET/HEAD /bin/<fileName>: the shim for every supported platform, with ETag revalidation. */
export function serveCoderBinary(req: http.IncomingMessage, res: http.ServerResponse, fileName: string): void {
  const match = BINARY_NAME.exec(fileName);
  if (!match || (match[1] === 'windows') !== (match[3] === '.exe')) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' });
    res.end();
    return;
  }
  const candidates = (req.headers['if-none-match'] ?? '').split(',').map((tag) => tag.trim());
  if (candidates.includes(CLI_SHIM_ETAG) || candidates.includes('*')) {
    res.writeHead(304, { ETag: CLI_SHIM_ETAG });
    res.end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': SHIM_BYTES.length,
    ETag: CLI_SHIM_ETAG,
  });
  res.end(req.method === 'HEAD' ? undefined : SHIM_BYTES);
}
