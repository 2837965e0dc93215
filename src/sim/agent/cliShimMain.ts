#!/usr/bin/env node
// Simulated coder CLI, served by coder-scaletest's simulated deployment at
// /bin/coder-<os>-<arch>[.exe]. It runs outside our bundle, on a user's Node, so it uses only
// Node built-ins. It implements "coder ssh --stdio <owner>/<workspace>[.<agent>]" over the
// simulator's tunnel (the stand-in for Coder's tailnet) and "coder --version".
// Never imported: esbuild compiles it to a self-contained script and embeds that as text
// (cliShimSource.ts).
import * as http from 'http';
import * as https from 'https';
import { CLI_SHIM_VERSION } from './cliShimVersion';

function fail(message: string): never {
  process.stderr.write(`coder: ${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
if (args[0] === '--version' || args[0] === 'version') {
  process.stdout.write(`Coder ${CLI_SHIM_VERSION} (simulated deployment CLI)\n`);
  process.exit(0);
}
if (args[0] !== 'ssh' || !args.includes('--stdio')) {
  fail('this simulated CLI only supports "coder ssh --stdio <owner>/<workspace>" and "coder --version"');
}
const target = args.slice(1).filter((arg) => arg !== '--stdio')[0] ?? '';
const slash = target.indexOf('/');
if (slash <= 0 || slash === target.length - 1) fail(`expected <owner>/<workspace>, got "${target}"`);
const owner = target.slice(0, slash);
// Like the real CLI: "<workspace>.<agent>" picks an agent, which must exist.
const [workspace = '', agent] = target.slice(slash + 1).split('.');

const accessUrl = process.env.CODER_URL;
const token = process.env.CODER_SESSION_TOKEN;
if (!accessUrl) fail('CODER_URL is not set: set it to the deployment URL');
if (!token) fail('CODER_SESSION_TOKEN is not set: set it to a session token');
let base: URL;
try {
  base = new URL(accessUrl);
} catch {
  fail('CODER_URL is not a valid URL');
}
const transport = base.protocol === 'https:' ? https : http;
const tunnelPath =
  `${base.pathname.replace(/\/$/, '')}/_sim/tunnel/${encodeURIComponent(owner)}/${encodeURIComponent(workspace)}` +
  (agent ? `?agent=${encodeURIComponent(agent)}` : '');
const request = transport.request({
  hostname: base.hostname,
  port: base.port,
  path: tunnelPath,
  headers: { Connection: 'Upgrade', Upgrade: 'coder-sim-tunnel', 'Coder-Session-Token': token },
});
request.on('upgrade', (_response, socket, head: Buffer) => {
  if (head.length > 0) process.stdout.write(head);
  const exit = () => process.stdout.write('', () => process.exit(0));
  socket.on('data', (chunk: Buffer) => {
    if (!process.stdout.write(chunk)) {
      socket.pause();
      process.stdout.once('drain', () => socket.resume());
    }
  });
  socket.on('end', exit);
  socket.on('close', exit);
  socket.on('error', (error: Error) => fail(`the connection to ${owner}/${workspace} failed: ${error.message}`));
  process.stdin.on('data', (chunk: Buffer) => {
    if (!socket.write(chunk)) {
      process.stdin.pause();
      socket.once('drain', () => process.stdin.resume());
    }
  });
  process.stdin.on('end', () => socket.end());
});
request.on('response', (response) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => {
    let message = '';
    try {
      message = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message?: string }).message ?? '';
    } catch {
      message = '';
    }
    fail(`the deployment refused ${owner}/${workspace}: HTTP ${response.statusCode}${message ? `: ${message}` : ''}`);
  });
});
request.on('error', (error) => fail(`cannot reach ${base.origin}: ${error.message}`));
request.end();
