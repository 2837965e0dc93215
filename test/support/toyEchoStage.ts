// A toy echo stage registered at run time, as a plug-in would: the echo stages' settings and
// machinery (tick schedule, verification, worker threads) with a connection of its own that
// echoes in this process (./toyEchoRunner.ts). `module` names this file, so that worker threads
// register the stage from it and look it up through their registry.
import { defineEchoStage, echoSettings } from '../../src/engine/stages/echo/descriptor';

export const toyEchoStage = {
  ...defineEchoStage({
    id: 'toyecho',
    title: 'Toy echo',
    color: 'yellow',
    defaultWindow: [0, 1],
    connectP95Budget: '5s',
    settings: echoSettings('Toy echo', {}),
    loadOpeners: async () => (require('./toyEchoRunner') as typeof import('./toyEchoRunner')).toyEchoOpeners,
  }),
  module: __filename,
};
