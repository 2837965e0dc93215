// Line "coder-cli": an SSH stage through the coder CLI needs a binary of coderd's version:
// configured, or downloadable from the deployment's /bin.
import { coderBinaryName } from '../../coder/cliCache';
import type { DeploymentConnection } from '../../coder/connection';
import { httpRequest } from '../../coder/httpRequest';
import type { Plan } from '../plan/plan';
import type { Lines } from './lines';

export interface CoderCliInputs {
  plan: Plan;
  connection: DeploymentConnection;
  version: string;
  sshThroughCli: boolean;
  /** The configured coder binary (`--coder-binary`), if any. */
  coderBinaryPath?: string;
  signal?: AbortSignal;
}

export async function checkCoderCli(
  { plan, connection, version, sshThroughCli, coderBinaryPath, signal }: CoderCliInputs,
  lines: Lines,
): Promise<void> {
  if (!sshThroughCli)
    lines.add('coder-cli', 'skip', plan.traffic.ssh.enabled ? 'the SSH stage connects directly' : 'the SSH stage is disabled');
  else if (coderBinaryPath) lines.add('coder-cli', 'pass', `configured: ${coderBinaryPath} (make sure it is coderd ${version}'s)`);
  else {
    const name = coderBinaryName();
    try {
      const answer = await httpRequest({
        url: `${connection.url.replace(/\/+$/, '')}/bin/${name}`,
        method: 'HEAD',
        timeoutMs: 10_000,
        signal,
      });
      if (answer.status === 200) lines.add('coder-cli', 'pass', `${name} is downloadable from the deployment (same version as coderd)`);
      else
        lines.add(
          'coder-cli',
          'fail',
          `GET /bin/${name} answered ${answer.status}`,
          'install the coder CLI of the same version and pass --coder-binary PATH',
        );
    } catch (error) {
      lines.add(
        'coder-cli',
        'fail',
        `/bin/${name}: ${(error as Error).message}`,
        'install the coder CLI of the same version and pass --coder-binary PATH',
      );
    }
  }
}
