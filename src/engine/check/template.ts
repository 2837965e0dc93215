// Lines "template", "agent", "echo-app", "parameters" and "external-auth": does the plan's
// template exist and give every workspace what the stages need, with no input a scale-test
// user cannot give.
import type { CoderClient } from '../../coder/client';
import type * as S from '../../coder/schemas';
import type { Plan } from '../plan/plan';
import { planNeedsWorkspaces, resolveOrganizationAndTemplate, resolveWorkspaceInputs } from '../prepare/prepare';
import { errorMessage as message, type Lines } from './lines';

/** What later lines build on: where workspaces would build, their agent and echo app. */
export interface TemplateFindings {
  organizationId?: string;
  agent?: S.WorkspaceAgent;
  echoApp?: S.WorkspaceApp;
}

export async function checkTemplate(client: CoderClient, plan: Plan, me: S.User, lines: Lines): Promise<TemplateFindings> {
  let template: S.Template | undefined;
  let organizationId: string | undefined;
  let agent: S.WorkspaceAgent | undefined;
  let echoApp: S.WorkspaceApp | undefined;
  const appsEnabled = plan.traffic.apps.enabled;
  if (!planNeedsWorkspaces(plan)) {
    for (const id of ['template', 'agent', 'echo-app', 'parameters', 'external-auth'] as const)
      lines.add(id, 'skip', 'the plan creates no workspaces');
  } else {
    try {
      const resolved = await resolveOrganizationAndTemplate(client, plan, me.organization_ids ?? []);
      template = resolved.template;
      organizationId = resolved.organization.id;
      lines.add('template', 'pass', `${template.name} in ${resolved.organization.name} (active version ${template.active_version_id})`);
    } catch (error) {
      lines.add(
        'template',
        'fail',
        message(error),
        'push the scale-test template: coder-scaletest template push --kind kubernetes (or docker), then set deployment.template',
      );
    }
    if (template) {
      const resources = await client.templateVersionResources(template.active_version_id).catch(() => undefined);
      const agents = (resources ?? []).filter((r) => (r.workspace_transition ?? 'start') === 'start').flatMap((r) => r.agents ?? []);
      agent = agents[0];
      if (!resources) lines.add('agent', 'warn', "could not read the active version's resources", 'check the template in the dashboard');
      else if (!agent)
        lines.add('agent', 'fail', `template ${template.name} declares no coder_agent`, 'push the scale-test template (template push)');
      else
        lines.add(
          'agent',
          agents.length > 1 ? 'warn' : 'pass',
          `agent ${agent.name}${agents.length > 1 ? ` (and ${agents.length - 1} more: prepare uses the first)` : ''}`,
        );
      const slug = plan.traffic.apps.slug;
      if (!appsEnabled) lines.add('echo-app', 'skip', 'the apps stage is disabled');
      else if (!agent) lines.add('echo-app', 'skip', 'no agent');
      else {
        echoApp = (agent.apps ?? []).find((app) => app.slug === slug);
        const slugs = (agent.apps ?? []).map((app) => app.slug).join(', ') || 'none';
        if (echoApp) lines.add('echo-app', 'pass', `${slug} (${echoApp.subdomain ? 'subdomain' : 'path-based'} app)`);
        else
          lines.add(
            'echo-app',
            'fail',
            `agent ${agent.name} has no app "${slug}" (apps: ${slugs})`,
            'push the scale-test template (template push), or set traffic.apps.slug to the echo app of your template',
          );
      }
      try {
        const inputs = await resolveWorkspaceInputs(client, plan, template);
        const given = inputs.rich_parameter_values.length;
        lines.add(
          'parameters',
          'pass',
          given
            ? `${given} parameter value(s) from the plan${inputs.template_version_preset_id ? ' and its preset' : ''}`
            : 'no parameter needs a value',
        );
      } catch (error) {
        lines.add(
          'parameters',
          'fail',
          message(error),
          'give every required parameter a value in deployment.parameters (or choose a deployment.preset)',
        );
      }
      try {
        const providers = await client.templateVersionExternalAuth(template.active_version_id);
        const required = providers.filter((provider) => !provider.optional);
        if (required.length === 0) lines.add('external-auth', 'pass', providers.length ? 'only optional providers' : 'none required');
        else
          lines.add(
            'external-auth',
            'fail',
            `every workspace needs its user linked to ${required.map((provider) => provider.id).join(', ')}, which scale-test users never are`,
            'remove the coder_external_auth data source from the template, or mark it optional',
          );
      } catch (error) {
        lines.add('external-auth', 'fail', `coderd: ${message(error)}`, "fix or remove the template's coder_external_auth data source");
      }
    } else for (const id of ['agent', 'echo-app', 'parameters', 'external-auth'] as const) lines.add(id, 'skip', 'no template');
  }
  return { organizationId, agent, echoApp };
}
