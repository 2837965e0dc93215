// SSH echo: `coder ssh --stdio` through the CLI downloaded from the deployment (works with any
// coderd), or plain TCP to a direct SSH endpoint (the simulated deployment's SSH port). How it
// connects is ./runner.ts (ssh2, the coder CLI), loaded when the stage runs.
import { Type, type Static } from '@sinclair/typebox';
import { CONNECTION_COSTS } from '../../plan/runnerCapacity';
import { defineEchoStage, echoSettings } from '../echo/descriptor';

const settings = echoSettings('SSH', {
  transport: Type.Union([Type.Literal('coder-cli'), Type.Literal('direct')], {
    default: 'coder-cli',
    description:
      "coder-cli: `coder ssh --stdio` with the CLI downloaded from the deployment (works with any coderd); direct: plain TCP to directAddress (the simulated deployment's SSH port).",
  }),
  directConnections: Type.Boolean({
    default: true,
    description:
      'coder-cli only. true (the reference runner: its in-process dial allows it): the CLI may connect peer to peer, and the echo bypasses coderd once a direct path is found; ' +
      "false: CODER_DISABLE_DIRECT_CONNECTIONS=true, every byte goes through a DERP relay (coderd's built-in one unless the deployment has others), which loads coderd.",
  }),
  directAddress: Type.Optional(
    Type.String({ pattern: '^[^:]+:\\d+$', description: 'host:port of a direct SSH endpoint (transport "direct" only).' }),
  ),
});
export type SshSettings = Static<typeof settings>;

export const sshStage = defineEchoStage({
  id: 'ssh',
  title: 'SSH',
  color: 'blue',
  defaultWindow: [0, 3],
  // The coder CLI's tunnel set-up makes SSH slower to open than a WebSocket: a longer budget.
  connectP95Budget: '10s',
  settings,
  validate: (settings) =>
    settings.transport === 'direct' && !settings.directAddress
      ? ['traffic.ssh.directAddress: required when traffic.ssh.transport is "direct" (e.g. "127.0.0.1:2222")']
      : [],
  // The coder-cli transport runs a coder CLI process per connection beside the runner (docs/bench.md,
  // *The coder CLI path*): the deployment's Go binary, budgeted until measured.
  extraLoad: (settings, users) =>
    settings.transport === 'coder-cli'
      ? {
          memoryMiB: (users * CONNECTION_COSTS.sshCoderCli.memoryBytes) / 1024 ** 2,
          milliCpu: users * CONNECTION_COSTS.sshCoderCli.cores * 1000,
        }
      : { memoryMiB: 0, milliCpu: 0 },
  loadOpeners: async () => (require('./runner') as typeof import('./runner')).sshOpeners,
});
