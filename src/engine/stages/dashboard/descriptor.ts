// Dashboard traffic: simulated users in one headless Chromium visit dashboard pages (see
// ../dashboardStage.ts). The browser starts and signs its users in before T0.
import { Type } from '@sinclair/typebox';
import { launchDashboardBrowser, runDashboardStage } from './runner';
import { defineTrafficStage } from '../definition';

export const DASHBOARD_PAGES = ['/workspaces', '/templates', '/users', '/@{owner}/{workspace}'] as const;

export const dashboardStage = defineTrafficStage({
  id: 'dashboard',
  title: 'Dashboard',
  color: 'green',
  defaultWindow: [3, 6],
  metrics: ['latency', 'counters'],
  latencyMeaning: 'page load',
  connectionNoun: 'browser users',
  settings: Type.Object(
    {
      enabled: Type.Boolean({ default: true, description: 'Run the dashboard stage (headless Chromium).' }),
      intervalSeconds: Type.Number({
        minimum: 0.1,
        maximum: 3600,
        default: 10,
        description: 'Mean time between page visits per user (reference: 10).',
      }),
      jitterSeconds: Type.Number({
        minimum: 0,
        maximum: 3600,
        default: 5,
        description: 'Uniform jitter around the interval (reference: ±5).',
      }),
      pages: Type.Array(Type.String({ pattern: '^/' }), {
        minItems: 1,
        default: [...DASHBOARD_PAGES],
        description: 'Dashboard paths to visit; {owner} and {workspace} are replaced per user.',
      }),
      maxBrowsers: Type.Integer({
        minimum: 1,
        default: 50,
        description: 'At most this many simulated dashboard users (browser contexts) in the one Chromium.',
      }),
    },
    { additionalProperties: false, default: {}, description: 'Dashboard traffic through headless Chromium.' },
  ),
  async setUp(context) {
    context.log('info', 'starting Chromium and signing the dashboard users in');
    const browser = await launchDashboardBrowser({
      chromiumPath: context.chromiumPath,
      baseUrl: context.connection.url,
      tls: context.connection.tls,
      users: context.users,
      maxBrowsers: context.settings.maxBrowsers,
      log: context.log,
    });
    return {
      connections: browser.users.length,
      run: (run) => runDashboardStage({ ...run, browser }),
      close: () => browser.close(),
    };
  },
});
