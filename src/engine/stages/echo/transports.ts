// Shared by the echo stages' openers (src/engine/stages/ssh/descriptor.ts, pty.ts, apps.ts): each opens
// its echo connection for one prepared user, with that user's token.
import * as os from 'os';
import * as path from 'path';
import type { DeploymentConnection } from '../../../coder/connection';
import type { EchoTransport } from './session';
import type { PreparedUser } from '../../prepare/prepare';

/** Opens a user's echo connection; `attempt` > 0 is a reconnect. */
export type Opener = (attempt: number) => Promise<EchoTransport>;

export const CLOSE_TIMEOUT_MS = 5000;

export function defaultCacheDir(): string {
  return process.env.XDG_CACHE_HOME
    ? path.join(process.env.XDG_CACHE_HOME, 'coder-scaletest')
    : path.join(os.homedir(), '.cache', 'coder-scaletest');
}

/** The deployment as `user` reaches it: same URL and TLS, the user's own token. */
export function userConnection(connection: DeploymentConnection, user: PreparedUser): DeploymentConnection {
  return { ...connection, token: user.token };
}

export function splitAddress(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index), Number(address.slice(index + 1))];
}

/** Rejects after `ms`; what `promise` yields after that goes to `discardLate` (a late connection is closed, not leaked). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string, discardLate?: (late: T) => void): Promise<T> {
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

export function closeLate(channel: EchoTransport): void {
  void Promise.resolve(channel.close()).catch(() => undefined);
}
