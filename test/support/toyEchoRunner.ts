// The toy echo stage's connections (see ./toyEchoStage.ts): each echoes what it is sent on the
// next turn of the event loop, on whichever thread runs it.
import type { EchoTransport } from '../../src/engine/stages/echo/session';
import type { OpenerFactory } from '../../src/engine/stages/echo/descriptor';

function loopbackEcho(): EchoTransport {
  let onData: ((data: Buffer) => void) | undefined;
  let onClose: ((info: { expected: boolean }) => void) | undefined;
  return {
    send: (data) => setImmediate(() => onData?.(data)),
    onData: (listener) => (onData = listener),
    onClose: (listener) => (onClose = listener),
    close: () => onClose?.({ expected: true }),
  };
}

export const toyEchoOpeners: OpenerFactory<unknown> = async () => () => async () => loopbackEcho();
