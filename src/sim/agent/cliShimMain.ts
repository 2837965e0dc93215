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
const apiBase = base.pathname.replace(/\/$/, '');
// serpent's bool parsing (strconv.ParseBool): 1, t, T, TRUE, true, True.
const disableDirect = /^(1|t|true)$/i.test(process.env.CODER_DISABLE_DIRECT_CONNECTIONS ?? '');
/** How often the real CLI polls the workspace for its autostop notice (cli/ssh.go workspacePollInterval). */
const WORKSPACE_POLL_MS = 60_000;

/** GET an API path with the session token; resolves the JSON body, or fails like the CLI on a refusal. */
function getJson(apiPath: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const request = transport.get({
      hostname: base.hostname,
      port: base.port,
      path: `${apiBase}${apiPath}`,
      headers: { 'Coder-Session-Token': token },
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          body = {};
        }
        if (response.statusCode !== 200) {
          const message = typeof body.message === 'string' ? body.message : '';
          fail(`GET ${apiPath}: HTTP ${response.statusCode}${message ? `: ${message}` : ''}`);
        }
        resolve(body);
      });
    });
    request.on('error', (error) => fail(`cannot reach ${base.origin}: ${error.message}`));
  });
}

// What `coder ssh --stdio` asks coderd before it dials (cli/ssh.go): the workspace by owner and
// name, then its build's template version (one path for every workspace of a template: before
// coderd keyed rate limits by user, all of a client IP's CLIs share its bucket). The appearance
// call (errors ignored), the agent and its connection info are left out.
async function main(): Promise<void> {
  const found = await getJson(`/api/v2/users/${encodeURIComponent(owner)}/workspace/${encodeURIComponent(workspace)}`);
  const latestBuild = (found.latest_build ?? {}) as { template_version_id?: string };
  if (latestBuild.template_version_id) await getJson(`/api/v2/templateversions/${encodeURIComponent(latestBuild.template_version_id)}`);
  if (disableDirect) process.stderr.write('Direct connections disabled.\n');
  const workspaceId = typeof found.id === 'string' ? found.id : undefined;
  dialTunnel(workspaceId, 0);
}

// The tunnel stands in for tailnet (the coordination socket `/api/v2/tailnet` plus DERP or a
// direct path). Like tailnet's controller, a refused dial is tried again with a backoff.
function dialTunnel(workspaceId: string | undefined, attempt: number): void {
  const query = new URLSearchParams();
  if (agent) query.set('agent', agent);
  query.set('direct', disableDirect ? '0' : '1');
  const tunnelPath = `${apiBase}/_sim/tunnel/${encodeURIComponent(owner)}/${encodeURIComponent(workspace)}?${query.toString()}`;
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
    // tryPollWorkspaceAutostop: the workspace once a minute while connected (errors ignored).
    if (workspaceId) {
      setInterval(() => {
        transport
          .get({
            hostname: base.hostname,
            port: base.port,
            path: `${apiBase}/api/v2/workspaces/${workspaceId}`,
            headers: { 'Coder-Session-Token': token },
          })
          .on('response', (response) => response.resume())
          .on('error', () => undefined);
      }, WORKSPACE_POLL_MS).unref();
    }
  });
  request.on('response', (response) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      if (response.statusCode === 429 || response.statusCode === 503) {
        // tailnet's controller: retry.New(50ms, 10s).
        setTimeout(() => dialTunnel(workspaceId, attempt + 1), Math.min(10_000, 50 * 2 ** attempt));
        return;
      }
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
}

void main();
