// The real backend: the engine, the Coder client and the embedded simulated deployment behind
// the narrow ScaleTestBackend interface. No vscode import.
import { CoderClient } from '../coder/client';
import type { DeploymentConnection, TlsOptions } from '../coder/connection';
import { cleanupRun } from '../engine/cleanup';
import { defaultPlan, parsePlanText, PlanError } from '../engine/plan';
import { TRAFFIC_STAGES } from '../protocol/snapshot';
import type { DeploymentInfo, ScaleTestBackend } from './backend';

function isOwner(roles: { name: string; organization_id?: string }[] | undefined): boolean {
  return (roles ?? []).some((role) => role.name === 'owner' && !role.organization_id);
}

export function createEngineBackend(): ScaleTestBackend {
  return {
    validatePlanText(text, source) {
      let plan;
      try {
        plan = parsePlanText(text, source);
      } catch (error) {
        // One problem per line, each naming the field (the Problems view shows them one by one).
        if (error instanceof PlanError) throw new Error(error.problems.join('\n'));
        throw error;
      }
      return {
        name: plan.name,
        deploymentUrl: plan.deployment.url,
        stages: ['prepare', ...TRAFFIC_STAGES.filter((stage) => plan.traffic[stage].enabled), 'cleanup'],
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

    async cleanupRun({ runId, connection, log }) {
      const outcome = await cleanupRun({ runId, connection, log: (level, message) => log(`${level}: ${message}`) });
      const leftovers = outcome.leftovers.length ? `; could not delete ${outcome.leftovers.join(', ')}` : '';
      return `Run ${runId}: deleted ${outcome.deletedWorkspaces} of ${outcome.found.workspaces} workspace(s) and ${outcome.deletedUsers} of ${outcome.found.users} user(s)${leftovers}.`;
    },

    async startRun() {
      throw new Error('the run engine is not part of this build yet');
    },

    async readReport() {
      throw new Error('reading reports is not part of this build yet');
    },

    async startSimDeployment() {
      throw new Error('the simulated deployment is not part of this build yet');
    },
  };
}
