// Workspace apps echo: a WebSocket to the template's echo app through coderd's app proxy, on the
// wildcard app host when the deployment has one, else on a path-based app URL. How it connects
// is ./runner.ts, loaded when the stage runs.
import { Type, type Static } from '@sinclair/typebox';
import { appLabelProblem } from '../../run/naming';
import { defineEchoStage, echoSettings } from '../echo/descriptor';

const settings = echoSettings('Workspace apps', {
  slug: Type.String({ minLength: 1, default: 'wsec', description: 'Slug of the WebSocket echo app in the template (reference: wsec).' }),
});
export type AppsSettings = Static<typeof settings>;

export const appsStage = defineEchoStage({
  id: 'apps',
  title: 'Workspace apps',
  color: 'purple',
  defaultWindow: [2, 5],
  connectP95Budget: '5s',
  referencePhase: 'terminalApps',
  settings,
  // Subdomain apps put workspace and user names into one DNS label; they must fit (issue 12).
  validate: (settings, plan) => {
    const problem = appLabelProblem(settings.slug, plan.runIdPrefix, plan.users);
    return problem ? [`runIdPrefix: ${problem}`] : [];
  },
  loadOpeners: async () => (require('./runner') as typeof import('./runner')).appsOpeners,
});
