// How the web terminal stage opens its echo connections: a reconnecting PTY WebSocket that
// re-attaches the same session after a drop.
import { openPtyEchoChannel, type PtyEchoChannel } from '../../../coder/pty';
import type { OpenerFactory } from '../echo/descriptor';
import { CLOSE_TIMEOUT_MS, closeLate, userConnection, withTimeout } from '../echo/transports';
import type { PtySettings } from './descriptor';

export const ptyOpeners: OpenerFactory<PtySettings> = async (context) => {
  const { settings, signal } = context;
  const connectTimeoutMs = context.plan.timeouts.connectSeconds * 1000;
  return (user) => {
    let channel: PtyEchoChannel | undefined;
    return async () => {
      if (channel) {
        await withTimeout(channel.reconnect(), connectTimeoutMs, 'web terminal reconnect');
        return channel;
      }
      channel = await withTimeout(
        openPtyEchoChannel({
          connection: userConnection(context.connection, user),
          agentId: user.agentId,
          width: 80,
          height: 24,
          command: `dd if=/dev/stdin of=/dev/null bs=${settings.bytesPerTick} status=none`,
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
};
