// Web terminal echo: a reconnecting PTY WebSocket per workspace running `dd` as the echo; after
// a drop it re-attaches the same session (same reconnect id), as the dashboard's terminal does.
import { openPtyEchoChannel, type PtyEchoChannel } from '../../../coder/pty';
import { CLOSE_TIMEOUT_MS, closeLate, userConnection, withTimeout } from '../echo/transports';
import { defineEchoStage, echoSettings } from '../echo/descriptor';

export const ptyStage = defineEchoStage({
  id: 'pty',
  title: 'Web terminal',
  color: 'orange',
  defaultWindow: [1, 4],
  connectP95Budget: '5s',
  settings: echoSettings('Web terminal', {}),
  async openers(context) {
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
  },
});
