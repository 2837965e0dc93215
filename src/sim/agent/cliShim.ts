// The "coder" CLI the simulated deployment serves at /bin/coder-<os>-<arch>[.exe]: a small,
// self-contained Node script (only Node built-ins: it runs outside our bundle) implementing
// `coder ssh --stdio <owner>/<workspace>` over the simulator's tunnel, which stands in for
// Coder's tailnet, and `coder --version`. Kept as a string so it ships inside dist/cli.js and
// dist/extension.js without extra files.
import { createHash } from 'crypto';
import type * as http from 'http';

export const CLI_SHIM_VERSION = 'v2.0.0-scaletest-sim';

export const CLI_SHIM_SOURCE = `#!/usr/bin/env node
'use strict';
// Simulated coder CLI, served by coder-scaletest's simulated deployment. It implements only
// "coder ssh --stdio <owner>/<workspace>" (through the simulator's tunnel) and "coder --version".
const http = require('http');
const https = require('https');

function fail(message) {
  process.stderr.write('coder: ' + message + '\\n');
  process.exit(1);
}

const args = process.argv.slice(2);
if (args[0] === '--version' || args[0] === 'version') {
  process.stdout.write('Coder ${CLI_SHIM_VERSION} (simulated deployment CLI)\\n');
  process.exit(0);
}
if (args[0] !== 'ssh' || args.indexOf('--stdio') < 0) {
  fail('this simulated CLI only supports "coder ssh --stdio <owner>/<workspace>" and "coder --version"');
}
const target = args.slice(1).filter((arg) => arg !== '--stdio')[0] || '';
const slash = target.indexOf('/');
if (slash <= 0 || slash === target.length - 1) fail('expected <owner>/<workspace>, got "' + target + '"');
const owner = target.slice(0, slash);
// Like the real CLI: "<workspace>.<agent>" picks an agent, which must exist.
const [workspace, agent] = target.slice(slash + 1).split('.');

const accessUrl = process.env.CODER_URL;
const token = process.env.CODER_SESSION_TOKEN;
if (!accessUrl) fail('CODER_URL is not set: set it to the deployment URL');
if (!token) fail('CODER_SESSION_TOKEN is not set: set it to a session token');
let base;
try {
  base = new URL(accessUrl);
} catch (error) {
  fail('CODER_URL is not a valid URL');
}
const transport = base.protocol === 'https:' ? https : http;
const request = transport.request({
  hostname: base.hostname,
  port: base.port,
  path: base.pathname.replace(/\\/$/, '') + '/_sim/tunnel/' + encodeURIComponent(owner) + '/' + encodeURIComponent(workspace) + (agent ? '?agent=' + encodeURIComponent(agent) : ''),
  headers: { Connection: 'Upgrade', Upgrade: 'coder-sim-tunnel', 'Coder-Session-Token': token },
});
request.on('upgrade', (_response, socket, head) => {
  if (head.length > 0) process.stdout.write(head);
  const exit = () => process.stdout.write('', () => process.exit(0));
  socket.on('data', (chunk) => {
    if (!process.stdout.write(chunk)) {
      socket.pause();
      process.stdout.once('drain', () => socket.resume());
    }
  });
  socket.on('end', exit);
  socket.on('close', exit);
  socket.on('error', (error) => fail('the connection to ' + owner + '/' + workspace + ' failed: ' + error.message));
  process.stdin.on('data', (chunk) => {
    if (!socket.write(chunk)) {
      process.stdin.pause();
      socket.once('drain', () => process.stdin.resume());
    }
  });
  process.stdin.on('end', () => socket.end());
});
request.on('response', (response) => {
  const chunks = [];
  response.on('data', (chunk) => chunks.push(chunk));
  response.on('end', () => {
    let message = '';
    try {
      message = JSON.parse(Buffer.concat(chunks).toString('utf8')).message || '';
    } catch (error) {
      message = '';
    }
    fail('the deployment refused ' + owner + '/' + workspace + ': HTTP ' + response.statusCode + (message ? ': ' + message : ''));
  });
});
request.on('error', (error) => fail('cannot reach ' + base.origin + ': ' + error.message));
request.end();
`;

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
