// How the SSH stage opens its echo connections: through the coder CLI (downloaded from the
// deployment once per run) or over plain TCP to a direct SSH endpoint.
import { ensureCoderBinary } from '../../../coder/cliCache';
import { openSshEchoChannel, type SshTransport } from '../../../coder/ssh';
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
    });
  }
  return (user) => async () =>
    openSshEchoChannel({
      transport: transportFor(user),
      bytesPerTick: settings.bytesPerTick,
      signal,
      readyTimeoutMs: context.plan.timeouts.connectSeconds * 1000,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
    });
};
