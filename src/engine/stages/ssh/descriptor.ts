// SSH echo: `coder ssh --stdio` through the CLI downloaded from the deployment (works with any
// coderd), or plain TCP to a direct SSH endpoint (the simulated deployment's SSH port).
import { Type } from '@sinclair/typebox';
import { ensureCoderBinary } from '../../../coder/cliCache';
import { openSshEchoChannel, type SshTransport } from '../../../coder/ssh';
import type { PreparedUser } from '../../prepare/prepare';
import { CLOSE_TIMEOUT_MS, defaultCacheDir, splitAddress, userConnection } from '../echo/transports';
import { defineEchoStage, echoSettings } from '../echo/descriptor';

export const sshStage = defineEchoStage({
  id: 'ssh',
  title: 'SSH',
  color: 'blue',
  defaultWindow: [0, 3],
  // The coder CLI's tunnel set-up makes SSH slower to open than a WebSocket: a longer budget.
  connectP95Budget: '10s',
  settings: echoSettings('SSH', {
    transport: Type.Union([Type.Literal('coder-cli'), Type.Literal('direct')], {
      default: 'coder-cli',
      description:
        "coder-cli: `coder ssh --stdio` with the CLI downloaded from the deployment (works with any coderd); direct: plain TCP to directAddress (the simulated deployment's SSH port).",
    }),
    directAddress: Type.Optional(
      Type.String({ pattern: '^[^:]+:\\d+$', description: 'host:port of a direct SSH endpoint (transport "direct" only).' }),
    ),
  }),
  validate: (settings) =>
    settings.transport === 'direct' && !settings.directAddress
      ? ['traffic.ssh.directAddress: required when traffic.ssh.transport is "direct" (e.g. "127.0.0.1:2222")']
      : [],
  async openers(context) {
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
  },
});
