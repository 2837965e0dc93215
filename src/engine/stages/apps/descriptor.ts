// Workspace apps echo: a WebSocket to the template's echo app through coderd's app proxy, on the
// wildcard app host when the deployment has one, else on a path-based app URL.
import { Type } from '@sinclair/typebox';
import { openAppEchoChannel } from '../../../coder/apps';
import type { WorkspaceApp } from '../../../coder/schemas';
import { appLabelProblem } from '../../run/naming';
import { CLOSE_TIMEOUT_MS, closeLate, userConnection, withTimeout } from '../echo/transports';
import { defineEchoStage, echoSettings } from '../echo/descriptor';

export const appsStage = defineEchoStage({
  id: 'apps',
  title: 'Workspace apps',
  color: 'purple',
  defaultWindow: [2, 5],
  connectP95Budget: '5s',
  settings: echoSettings('Workspace apps', {
    slug: Type.String({ minLength: 1, default: 'wsec', description: 'Slug of the WebSocket echo app in the template (reference: wsec).' }),
  }),
  // Subdomain apps put workspace and user names into one DNS label; they must fit (issue 12).
  validate: (settings, plan) => {
    const problem = appLabelProblem(settings.slug, plan.runIdPrefix, plan.users);
    return problem ? [`runIdPrefix: ${problem}`] : [];
  },
  async openers(context) {
    const { settings, signal } = context;
    // No wildcard host (or an older coderd without the endpoint): path-based app URLs.
    const host = await context.owner.appHost().then(
      (answer) => answer.host,
      () => '',
    );
    return (user) => async () =>
      withTimeout(
        openAppEchoChannel({
          connection: userConnection(context.connection, user),
          owner: user.username,
          workspace: user.workspaceName,
          agent: user.agentName,
          slug: settings.slug,
          ...subdomainOf(
            user.agentApps.find((app) => app.slug === settings.slug),
            host,
          ),
          signal,
          closeTimeoutMs: CLOSE_TIMEOUT_MS,
        }),
        context.plan.timeouts.connectSeconds * 1000,
        'app connect',
        closeLate,
      );
  },
});

/** Like the reference runner: a subdomain URL only for an app coderd marks as a subdomain app. */
function subdomainOf(app: WorkspaceApp | undefined, wildcardHost: string): { subdomainHost?: string; subdomainName?: string } {
  if (!app?.subdomain || !app.subdomain_name || !wildcardHost) return {};
  return { subdomainHost: wildcardHost, subdomainName: app.subdomain_name };
}
