// Shared set-up for tests that drive the client against a real simulated deployment on 127.0.0.1.
import { CoderClient, type CoderClientOptions, type RequestInfo } from '../../src/coder';
import { startSimDeployment, type SimDeployment, type SimDeploymentOptions } from '../../src/sim';

/** Strong enough for coderd's password check. */
export const STRONG_PASSWORD = 'Scale-test-Pass-2026!';

export const FAST: SimDeploymentOptions = { buildDurationMs: 150, agentConnectDelayMs: 30, deploymentStatsIntervalMs: 100 };

export interface Fixture {
  sim: SimDeployment;
  owner: CoderClient;
  requests: RequestInfo[];
  close(): Promise<void>;
}

let counter = 0;
/** Unique, valid usernames / workspace names across a test run. */
export function uniqueName(prefix = 'scaletest'): string {
  counter++;
  return `${prefix}-${process.pid % 10000}-${counter}`;
}

export async function startFixture(simOptions: SimDeploymentOptions = {}, clientOptions: CoderClientOptions = {}): Promise<Fixture> {
  const sim = await startSimDeployment({ ...FAST, ...simOptions });
  const requests: RequestInfo[] = [];
  const owner = new CoderClient(
    { url: sim.url, token: sim.ownerToken },
    { retry: { baseDelayMs: 20, maxDelayMs: 200 }, ...clientOptions, onRequest: (info) => requests.push(info) },
  );
  return {
    sim,
    owner,
    requests,
    async close() {
      owner.close();
      await sim.close();
    },
  };
}

/** Creates a password user in the deployment's organization and returns a client logged in as it. */
export async function memberClient(fixture: Fixture): Promise<{ client: CoderClient; userId: string; username: string }> {
  const username = uniqueName();
  const password = `pw-${username}`;
  const email = `${username}@scaletest.local`;
  const user = await fixture.owner.createUser({
    email,
    username,
    password,
    login_type: 'password',
    organization_ids: [fixture.sim.organizationId],
  });
  const token = await fixture.owner.login(email, password);
  return { client: fixture.owner.withToken(token), userId: user.id, username };
}
