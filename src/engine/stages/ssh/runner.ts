// How the SSH stage opens its echo connections: through the coder CLI (downloaded from the
// deployment once per run) or over plain TCP to a direct SSH endpoint.
import { ensureCoderBinary } from '../../../coder/cliCache';
import { openSshEchoChannel, SshChannelError, type SshTransport } from '../../../coder/ssh';
import { openWithRetries, RETRYABLE_OPEN, type RetryDelay } from '../../../coder/wsDial';
import type { PreparedUser } from '../../prepare/prepare';
import type { OpenerFactory } from '../echo/descriptor';
import { CLOSE_TIMEOUT_MS, defaultCacheDir, splitAddress, userConnection } from '../echo/transports';
import type { SshSettings } from './descriptor';

export const sshOpeners: OpenerFactory<SshSettings> = async (context) => {
  const { settings, signal } = context;
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
    transportFor = (user) => ({
      kind: 'cli',
      binaryPath: binary.path,
      connection: userConnection(context.connection, user),
      owner: user.username,
      workspace: user.workspaceName,
      agent: user.agentName,
      disableDirect: !settings.directConnections,
    });
  }
  const connectMs = context.plan.timeouts.connectSeconds * 1000;
  return (user) => async () =>
    // A CLI refused by coderd (a rate limit: before coderd keyed limits by user, every CLI of
    // this runner shares the template version's and tailnet's buckets) is started again within
    // the connect budget.
    openWithRetries(
      () =>
        openSshEchoChannel({
          transport: transportFor(user),
          bytesPerTick: settings.bytesPerTick,
          signal,
          readyTimeoutMs: connectMs,
          closeTimeoutMs: CLOSE_TIMEOUT_MS,
        }),
      connectMs,
      signal,
      cliRetryDelay,
    );
};

/** A CLI that exited on a refusal that may pass: back off from 1 s to 8 s (its error carries no Retry-After). */
const cliRetryDelay: RetryDelay = (error, attempt) =>
  error instanceof SshChannelError && error.refusedStatus !== undefined && RETRYABLE_OPEN.has(error.refusedStatus)
    ? Math.min(8000, 1000 * 2 ** attempt)
    : undefined;
