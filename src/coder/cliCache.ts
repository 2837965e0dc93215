// The coder CLI used as the SSH transport: a configured path wins; otherwise the binary is
// downloaded from the deployment's /bin/coder-<goos>-<goarch>[.exe] into a cache directory and
// revalidated with its ETag on each use (304 → reuse). coderd's ETag is the quoted SHA-1 of the
// binary, so a download is checked against it, and a cached copy is re-hashed before a 304 is
// trusted (a 304 vouches for the server's file, not for what is on disk here). Downloads go to
// a temp file renamed into place, so a reader never sees half a binary; a lock (in-process
// promise + lock file holding the pid) keeps concurrent callers, in this process or another,
// from downloading at the same time, and a lock whose process is gone is taken over at once.
// A binary fetched over plain http from another machine is refused unless the user opts in
// (CODER_SCALETEST_ALLOW_HTTP_DOWNLOAD=1): nothing authenticates it.
import * as fs from 'fs';
import type * as http from 'http';
import { setTimeout as delay } from 'timers/promises';
import * as path from 'path';
import { createHash, randomBytes } from 'crypto';
import { pipeline } from 'stream/promises';
import { type DeploymentConnection, tlsRequestOptions } from './connection';
import { openHttpResponse } from './httpRequest';

export type CoderBinaryOutcome = 'configured' | 'downloaded' | 'reused';

export interface CoderBinary {
  path: string;
  /** How the path was obtained: the configured one, a fresh download, or the cached copy (304). */
  outcome: CoderBinaryOutcome;
}

export interface EnsureCoderBinaryOptions {
  connection: DeploymentConnection;
  cacheDir: string;
  configuredPath?: string;
  signal?: AbortSignal;
  /** Defaults to this machine's platform / architecture. */
  platform?: NodeJS.Platform;
  arch?: string;
  requestTimeoutMs?: number;
  /** Run a binary fetched over plain http from a non-loopback host. Default: CODER_SCALETEST_ALLOW_HTTP_DOWNLOAD=1. */
  allowPlainHttp?: boolean;
}

export class CoderBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoderBinaryError';
  }
}

const GO_OS: Partial<Record<NodeJS.Platform, string>> = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armv7' };
/** A lock file older than this belongs to a process that died mid-download. */
const STALE_LOCK_MS = 5 * 60 * 1000;
const LOCK_POLL_MS = 100;

/** `coder-<goos>-<goarch>[.exe]` for a Node platform / architecture. */
export function coderBinaryName(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = GO_OS[platform];
  const goArch = GO_ARCH[arch];
  if (!os || !goArch) {
    throw new CoderBinaryError(`Coder publishes no CLI for ${platform}/${arch}; install the coder CLI yourself and configure its path.`);
  }
  return `coder-${os}-${goArch}${os === 'windows' ? '.exe' : ''}`;
}

const inProcess = new Map<string, Promise<CoderBinary>>();

export async function ensureCoderBinary(options: EnsureCoderBinaryOptions): Promise<CoderBinary> {
  if (options.configuredPath) {
    try {
      await fs.promises.access(options.configuredPath, fs.constants.X_OK);
    } catch {
      throw new CoderBinaryError(
        `The configured coder CLI ${options.configuredPath} does not exist or is not executable; fix the path or clear it to download the CLI from the deployment.`,
      );
    }
    return { path: options.configuredPath, outcome: 'configured' };
  }
  const name = coderBinaryName(options.platform, options.arch);
  const dir = path.join(options.cacheDir, deploymentDirName(options.connection.url));
  const target = path.join(dir, name);
  // Callers in this process share one revalidation; other processes are held off by the lock file.
  const running = inProcess.get(target);
  if (running) return running;
  const work = (async () => {
    await fs.promises.mkdir(dir, { recursive: true });
    const releaseLock = await acquireLockFile(`${target}.lock`, options.signal);
    try {
      return await revalidate(options, name, target);
    } finally {
      await releaseLock();
    }
  })();
  inProcess.set(target, work);
  try {
    return await work;
  } finally {
    inProcess.delete(target);
  }
}

/** One cache folder per deployment (host and port), so two deployments never share a binary. */
function deploymentDirName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}_${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The SHA-1 a coderd ETag carries (`"<40 hex>"`), if it is one. */
function etagSha1(etag: string | undefined): string | undefined {
  return /^(?:W\/)?"([0-9a-f]{40})"$/i.exec(etag ?? '')?.[1]?.toLowerCase();
}

async function sha1Of(file: string): Promise<string> {
  const hash = createHash('sha1');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function checkTransport(url: URL, options: EnsureCoderBinaryOptions): void {
  if (url.protocol !== 'http:' || LOOPBACK.has(url.hostname)) return;
  const allowed = options.allowPlainHttp ?? process.env.CODER_SCALETEST_ALLOW_HTTP_DOWNLOAD === '1';
  if (!allowed) {
    throw new CoderBinaryError(
      `Refusing to download and run the coder CLI from ${url.origin} over plain http: nothing authenticates the binary. ` +
        "Use the deployment's https URL, install the coder CLI yourself and pass its path (--coder-binary / coderBinaryPath), " +
        'or set CODER_SCALETEST_ALLOW_HTTP_DOWNLOAD=1 to accept the risk.',
    );
  }
}

/** True when the cached binary is the one its recorded ETag names (or no hash is known to check). */
async function cachedCopyIntact(target: string, etag: string): Promise<boolean> {
  const expected = etagSha1(etag);
  if (!expected) return true;
  return (await sha1Of(target).catch(() => '')) === expected;
}

async function revalidate(options: EnsureCoderBinaryOptions, name: string, target: string): Promise<CoderBinary> {
  const etagFile = `${target}.etag`;
  // Relative to the access URL, so a deployment served below a path prefix works too.
  const url = new URL(`bin/${name}`, options.connection.url.endsWith('/') ? options.connection.url : `${options.connection.url}/`);
  checkTransport(url, options);
  const cachedEtag = await readIfPresent(etagFile);
  let haveBinary = cachedEtag !== undefined && (await exists(target));
  if (haveBinary && !(await cachedCopyIntact(target, cachedEtag!))) {
    // Corrupt or altered on disk: never ask the server to confirm it; fetch it afresh.
    await fs.promises.rm(etagFile, { force: true });
    haveBinary = false;
  }
  const response = await get(url, options, haveBinary ? { 'If-None-Match': cachedEtag! } : {});
  if (response.statusCode === 304 && haveBinary) {
    response.resume();
    return { path: target, outcome: 'reused' };
  }
  if (response.statusCode !== 200) {
    response.resume();
    throw new CoderBinaryError(
      `Downloading the coder CLI from ${url} failed with HTTP ${response.statusCode}; check the deployment URL, or install the CLI and configure its path.`,
    );
  }
  const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await pipeToFile(response, temp, options.signal);
    const expected = etagSha1(response.headers.etag);
    if (expected) {
      const actual = await sha1Of(temp);
      if (actual !== expected) {
        throw new CoderBinaryError(
          `The coder CLI downloaded from ${url} is corrupt (SHA-1 ${actual}, the deployment says ${expected}); try again, or install the CLI and configure its path.`,
        );
      }
    }
    await fs.promises.chmod(temp, 0o755);
    await fs.promises.rename(temp, target);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error instanceof CoderBinaryError
      ? error
      : new CoderBinaryError(`Downloading the coder CLI from ${url} failed: ${(error as Error).message}`);
  }
  const etag = response.headers.etag;
  if (etag) await fs.promises.writeFile(etagFile, etag);
  else await fs.promises.rm(etagFile, { force: true });
  return { path: target, outcome: 'downloaded' };
}

async function get(url: URL, options: EnsureCoderBinaryOptions, headers: Record<string, string>): Promise<http.IncomingMessage> {
  try {
    return await openHttpResponse({
      url,
      headers,
      signal: options.signal,
      socket: tlsRequestOptions(options.connection.tls),
      idleTimeoutMs: options.requestTimeoutMs ?? 60_000,
    });
  } catch (error) {
    throw new CoderBinaryError(`Cannot download the coder CLI from ${url}: ${(error as Error).message}`);
  }
}

async function pipeToFile(response: http.IncomingMessage, file: string, signal?: AbortSignal): Promise<void> {
  await pipeline(response, fs.createWriteStream(file, { mode: 0o755 }), { signal });
}

/** Takes `lockPath` with an exclusive create; waits while another live process holds it. */
async function acquireLockFile(lockPath: string, signal?: AbortSignal): Promise<() => Promise<void>> {
  for (;;) {
    if (signal?.aborted) throw new CoderBinaryError('Preparing the coder CLI was cancelled.');
    try {
      const handle = await fs.promises.open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => fs.promises.rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await lockIsStale(lockPath)) {
      await fs.promises.rm(lockPath, { force: true });
      continue;
    }
    await delay(LOCK_POLL_MS);
  }
}

/** The holder's process is gone (the pid is checked), or the lock is too old to be live. */
async function lockIsStale(lockPath: string): Promise<boolean> {
  const [stat, text] = await Promise.all([fs.promises.stat(lockPath).catch(() => undefined), readIfPresent(lockPath)]);
  if (!stat) return false;
  const pid = Number(text);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) return true;
  // No pid yet (written just after the create) is normal for a moment; for minutes it is not.
  return Date.now() - stat.mtimeMs > STALE_LOCK_MS;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return (await fs.promises.readFile(file, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
