// How the workspace apps stage opens its echo connections: the echo app's WebSocket through
// coderd's app proxy, on a subdomain URL where coderd marks the app as one, else path-based.
import { openAppEchoChannel } from '../../../coder/apps';
import { openWithRetries } from '../../../coder/wsDial';
import type { WorkspaceApp } from '../../../coder/schemas';
import type { OpenerFactory } from '../echo/descriptor';
import { CLOSE_TIMEOUT_MS, closeLate, userConnection, withTimeout } from '../echo/transports';
import type { AppsSettings } from './descriptor';

export const appsOpeners: OpenerFactory<AppsSettings> = async (context) => {
  const { settings, signal } = context;
  // No wildcard host (or an older coderd without the endpoint): path-based app URLs.
  const host = await context.owner.appHost().then(
    (answer) => answer.host,
    () => '',
  );
  const connectMs = context.plan.timeouts.connectSeconds * 1000;
  return (user) => async () =>
    withTimeout(
      // A refused open is tried again within the connect budget: subdomain app opens share one
      // rate-limit bucket per runner before coderd keyed limits by user, and an app its startup
      // script has not started yet answers 502.
      openWithRetries(
        () =>
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
        connectMs,
        signal,
      ),
      connectMs,
      'app connect',
      closeLate,
    );
};

/** Like the reference runner: a subdomain URL only for an app coderd marks as a subdomain app. */
function subdomainOf(app: WorkspaceApp | undefined, wildcardHost: string): { subdomainHost?: string; subdomainName?: string } {
  if (!app?.subdomain || !app.subdomain_name || !wildcardHost) return {};
  return { subdomainHost: wildcardHost, subdomainName: app.subdomain_name };
}
