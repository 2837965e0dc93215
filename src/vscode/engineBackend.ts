// The in-host half of the backend: plan validation, deployment checks, login, cleanup and
// report reading, all light request/response work. Runs and the simulated deployment run in
// child processes (processBackend.ts). No vscode import.
//
// The entry of its own bundle, dist/engineBackend.js, which the extension requires on first
// use (engineModule.ts): the engine's code (TypeBox, Ajv, the stage descriptors, the Coder
// client with ws, HDR histograms) is then not parsed at activation.
import { CoderClient } from '../coder/client';
import type { DeploymentConnection, TlsOptions } from '../coder/connection';
import { CoderApiError } from '../coder/errors';
import { cleanupRun } from '../engine/cleanup/cleanup';
import { checkDeployment } from '../engine/check/check';
import { pushTemplate } from '../engine/templates/push';
import { defaultPlan, enabledStages, parsePlanText, PlanError, type Plan } from '../engine/plan/plan';
import type { DeploymentInfo, ScaleTestBackend } from './backend';
import { readReportSnapshot } from './runs/reportSnapshot';

function parsePlan(text: string, source: string): Plan {
  try {
    return parsePlanText(text, source);
  } catch (error) {
    // One problem per line, each naming the field (the Problems view shows them one by one).
    if (error instanceof PlanError) throw new Error(error.problems.join('\n'));
    throw error;
  }
}

function isOwner(roles: { name: string; organization_id?: string }[] | undefined): boolean {
  return (roles ?? []).some((role) => role.name === 'owner' && !role.organization_id);
}

/** Everything but runs and the simulated deployment, which run in child processes (processBackend.ts). */
export type InHostBackend = Omit<ScaleTestBackend, 'startRun' | 'startSimDeployment'>;

export function createEngineBackend(): InHostBackend {
  return {
    validatePlanText(text, source) {
      const plan = parsePlan(text, source);
      return {
        name: plan.name,
        deploymentUrl: plan.deployment.url,
        stages: ['prepare', ...enabledStages(plan).map((stage) => stage.id), 'cleanup'],
        thresholds: plan.thresholds.map((threshold) => threshold.expression),
      };
    },

    defaultPlanText() {
      return `${JSON.stringify(defaultPlan(), null, 2)}\n`;
    },

    async inspectDeployment(connection: DeploymentConnection): Promise<DeploymentInfo> {
      const client = new CoderClient(connection, { timeoutMs: 15_000, retry: { retries: 1 } });
      try {
        const [build, user] = await Promise.all([client.buildInfo(), client.me()]);
        return { version: build.version, username: user.username, isOwner: isOwner(user.roles) };
      } catch (error) {
        if (error instanceof CoderApiError && error.status === 401) {
          throw new Error(
            `${connection.url} rejected the session token (401 ${error.apiMessage}). Connect again with a fresh token (\`coder tokens create\`) or with email and password.`,
          );
        }
        if (error instanceof CoderApiError && error.status === 404) {
          throw new Error(
            `${connection.url} does not look like a Coder deployment (${error.method} ${error.route} answered 404): check the access URL.`,
          );
        }
        throw error;
      } finally {
        client.close();
      }
    },

    async login(url: string, email: string, password: string, tls?: TlsOptions): Promise<string> {
      const client = new CoderClient({ url, tls }, { timeoutMs: 15_000 });
      try {
        return await client.login(email, password);
      } finally {
        client.close();
      }
    },

    async cleanupRun({ runId, connection, runDir, signal, onProgress, log }) {
      const outcome = await cleanupRun({ runId, connection, runDir, signal, onProgress, log });
      const leftovers = outcome.leftovers.length
        ? `; ${signal?.aborted ? 'cancelled, left behind' : 'could not delete'}: ${outcome.leftovers.join(', ')}`
        : '';
      const gone = outcome.gone.length ? `; ${outcome.gone.length} already gone` : '';
      const source = outcome.source === 'journal' ? " (from the run's journal)" : '';
      return `Run ${runId}: deleted ${outcome.deletedWorkspaces} of ${outcome.found.workspaces} workspace(s) and ${outcome.deletedUsers} of ${outcome.found.users} user(s)${gone}${leftovers}${source}.`;
    },

    async checkDeployment(planText, source, connection) {
      return checkDeployment({ plan: parsePlanText(planText, source), connection });
    },

    async pushTemplate(kind, connection, log) {
      const owner = new CoderClient(connection);
      try {
        const outcome = await pushTemplate({ owner, kind, log });
        const what = { created: 'created', promoted: 'updated (new active version)', unchanged: 'already up to date' }[outcome.action];
        return `Template ${outcome.template.name} ${what} on ${connection.url}. Set deployment.template to "${outcome.template.name}" in the plan.`;
      } finally {
        owner.close();
      }
    },

    readReport: readReportSnapshot,
  };
}

// The rest of the engine the extension host uses, so it loads with this bundle (engineModule.ts).
export { compareWithBaseline } from '../engine/baseline/compare';
export { stageTitle } from '../engine/stages/registry';
