// Dashboard traffic: simulated users in one headless Chromium visit dashboard pages (see
// ./runner.ts, loaded when the stage runs). The browser starts and signs its users in before T0.
import { Type, type Static } from '@sinclair/typebox';
import { defineTrafficStage } from '../definition';
import { findChromium } from './chromium';

export const DASHBOARD_PAGES = ['/workspaces', '/templates', '/@{owner}/{workspace}'] as const;

/** A plan page's section: its first path segment, or `@` for a workspace page. */
export function sectionOf(page: string): string {
  return page.startsWith('/@') ? '@' : (page.split('/')[1] ?? '');
}

/** The sections the stage has targets for (./runner.ts DASHBOARD_TARGETS). */
const SECTIONS_WITH_TARGETS = new Set(['workspaces', 'templates', '@']);

/** Why pages the reference runner visits are not visited for a member of today's dashboard. */
const SECTIONS_WITHOUT_TARGETS: Readonly<Record<string, string>> = {
  users:
    'coderd moved the users list to /deployment/users (site/src/router.tsx), reached through the Deployment menu by admins only; the scale-test users are members',
};

/**
 * A runner pod's cost of one dashboard session (a browser context in the one Chromium), issue
 * 10's figure: about 300 MB and 0.2 cores.
 */
export const DASHBOARD_SESSION_LOAD = { memoryMiB: 300, milliCpu: 200 } as const;

const settings = Type.Object(
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
);
export type DashboardSettings = Static<typeof settings>;

export const dashboardStage = defineTrafficStage({
  id: 'dashboard',
  title: 'Dashboard',
  color: 'green',
  defaultWindow: [3, 6],
  metrics: ['latency', 'counters'],
  latencyMeaning: 'page load',
  connectionNoun: 'browser users',
  referencePhase: 'dashboard',
  settings,
  validate: (settings) =>
    settings.pages.flatMap((page, index) => {
      const section = sectionOf(page);
      if (SECTIONS_WITH_TARGETS.has(section)) return [];
      return [
        `traffic.dashboard.pages[${index}]: "${page}" has nothing to click: ${SECTIONS_WITHOUT_TARGETS[section] ?? 'the stage visits /workspaces, /templates and /@{owner}/{workspace}'}`,
      ];
    }),
  // Before any user exists: a missing browser would fail the stage only after prepare.
  preflight(_settings, machine) {
    try {
      findChromium(machine.chromiumPath);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  },
  runnerLoad: (settings, users) => {
    const sessions = Math.min(users, settings.maxBrowsers);
    return { memoryMiB: sessions * DASHBOARD_SESSION_LOAD.memoryMiB, milliCpu: sessions * DASHBOARD_SESSION_LOAD.milliCpu };
  },
  load: async () => (require('./runner') as typeof import('./runner')).dashboardRunner,
});
