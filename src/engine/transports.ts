// Opens the echo connection of each traffic stage for one prepared user, with that user's
// token. The web terminal re-attaches its session (same reconnect id) after a drop; SSH and
// apps open a new connection.
import * as os from 'os';
import * as path from 'path';
import { openAppEchoChannel } from '../coder/apps';
import { ensureCoderBinary } from '../coder/cliCache';
import type { CoderClient } from '../coder/client';
import type { DeploymentConnection } from '../coder/connection';
import type { WorkspaceApp } from '../coder/schemas';
import { openPtyEchoChannel, type PtyEchoChannel } from '../coder/pty';
import { openSshEchoChannel, type SshTransport } from '../coder/ssh';
import type { EchoTransport } from './echoSession';
import type { Plan } from './plan';
import type { PreparedUser } from './prepare';

export type EchoStageName = 'ssh' | 'pty' | 'apps';
type Opener = (attempt: number) => Promise<EchoTransport>;

export interface TransportContext {
  plan: Plan;
  connection: DeploymentConnection;
  owner: CoderClient;
  signal: AbortSignal;
  coderBinaryPath?: string;
  cacheDir?: string;
}

const CLOSE_TIMEOUT_MS = 5000;

export function defaultCacheDir(): string {
  return process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'coder-scaletest') : path.join(os.homedir(), '.cache', 'coder-scaletest');
}

/** Resolves what a stage needs once (the coder CLI, the app host), then one opener per user. */
export async function openerFactory(stage: EchoStageName, context: TransportContext): Promise<(user: PreparedUser) => Opener> {
  const { plan, signal } = context;
  const connectTimeoutMs = plan.timeouts.connectSeconds * 1000;
  const userConnection = (user: PreparedUser): DeploymentConnection => ({ ...context.connection, token: user.token });
  switch (stage) {
    case 'pty':
      return (user) => {
        let channel: PtyEchoChannel | undefined;
        return async () => {
          if (channel) {
            await withTimeout(channel.reconnect(), connectTimeoutMs, 'web terminal reconnect');
            return channel;
          }
          channel = await withTimeout(
            openPtyEchoChannel({
              connection: userConnection(user),
              agentId: user.agentId,
              width: 80,
              height: 24,
              command: `dd if=/dev/stdin of=/dev/null bs=${plan.traffic.pty.bytesPerTick} status=none`,
              signal,
              closeTimeoutMs: CLOSE_TIMEOUT_MS,
            }),
            connectTimeoutMs,
            'web terminal connect',
            closeLate,
          );
          return channel;
        };
      };
    case 'ssh': {
      const settings = plan.traffic.ssh;
      let transportFor: (user: PreparedUser) => SshTransport;
      if (settings.transport === 'direct') {
        const [host, port] = splitAddress(settings.directAddress!);
        transportFor = (user) => ({ kind: 'tcp', host, port, username: `${user.username}/${user.workspaceName}` });
      } else {
        const binary = await ensureCoderBinary({
          connection: context.connection,
          cacheDir: context.cacheDir ?? defaultCacheDir(),
          configuredPath: context.coderBinaryPath,
          signal,
        });
        transportFor = (user) => ({ kind: 'cli', binaryPath: binary.path, connection: userConnection(user), owner: user.username, workspace: user.workspaceName, agent: user.agentName });
      }
      return (user) => async () =>
        openSshEchoChannel({
          transport: transportFor(user),
          bytesPerTick: settings.bytesPerTick,
          signal,
          readyTimeoutMs: connectTimeoutMs,
          closeTimeoutMs: CLOSE_TIMEOUT_MS,
        });
    }
    case 'apps': {
      // No wildcard host (or an older coderd without the endpoint): path-based app URLs.
      const host = await context.owner.appHost().then(
        (answer) => answer.host,
        () => '',
      );
      return (user) => async () =>
        withTimeout(
          openAppEchoChannel({
            connection: userConnection(user),
            owner: user.username,
            workspace: user.workspaceName,
            agent: user.agentName,
            slug: plan.traffic.apps.slug,
            ...subdomainOf(user.agentApps.find((app) => app.slug === plan.traffic.apps.slug), host),
            signal,
            closeTimeoutMs: CLOSE_TIMEOUT_MS,
          }),
          connectTimeoutMs,
          'app connect',
          closeLate,
        );
    }
  }
}

/** Like the reference runner: a subdomain URL only for an app coderd marks as a subdomain app. */
function subdomainOf(app: WorkspaceApp | undefined, wildcardHost: string): { subdomainHost?: string; subdomainName?: string } {
  if (!app?.subdomain || !app.subdomain_name || !wildcardHost) return {};
  return { subdomainHost: wildcardHost, subdomainName: app.subdomain_name };
}

function splitAddress(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index), Number(address.slice(index + 1))];
}

/** Rejects after `ms`; what `promise` yields after that goes to `discardLate` (a late connection is closed, not leaked). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string, discardLate?: (late: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`${what} did not complete within ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  if (discardLate) {
    promise.then(
      (late) => {
        if (timedOut) discardLate(late);
      },
      () => undefined,
    );
  }
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function closeLate(channel: EchoTransport): void {
  void Promise.resolve(channel.close()).catch(() => undefined);
}
