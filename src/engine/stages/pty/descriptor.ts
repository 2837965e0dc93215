// Web terminal echo: a reconnecting PTY WebSocket per workspace running `dd` as the echo; after
// a drop it re-attaches the same session (same reconnect id), as the dashboard's terminal does.
// How it connects is ./runner.ts, loaded when the stage runs.
import type { Static } from '@sinclair/typebox';
import { defineEchoStage, echoSettings } from '../echo/descriptor';

const settings = echoSettings('Web terminal', {});
export type PtySettings = Static<typeof settings>;

export const ptyStage = defineEchoStage({
  id: 'pty',
  title: 'Web terminal',
  color: 'orange',
  defaultWindow: [1, 4],
  connectP95Budget: '5s',
  referencePhase: 'terminalApps',
  settings,
  loadOpeners: async () => (require('./runner') as typeof import('./runner')).ptyOpeners,
});
