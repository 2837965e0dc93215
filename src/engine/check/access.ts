// Lines "reachable", "version" and "owner": can the run reach coderd, is it a supported
// release, and may the token create users. Without them no other line can be checked.
import type { CoderClient } from '../../coder/client';
import type { DeploymentConnection } from '../../coder/connection';
import type * as S from '../../coder/schemas';
import { versionWarning } from '../../coder/versions';
import { classifyAccessError } from '../run/outcome';
import type { Lines } from './lines';

/** coderd's version and the owner, or undefined when the rest must be skipped (the lines say why). */
export async function checkAccess(
  client: CoderClient,
  connection: DeploymentConnection,
  lines: Lines,
): Promise<{ version: string; me: S.User } | undefined> {
  let version: string;
  try {
    version = (await client.buildInfo()).version;
    lines.add('reachable', 'pass', `${connection.url} answers (coderd ${version})`);
  } catch (error) {
    const problem = classifyAccessError(error, connection.url);
    lines.add('reachable', 'fail', problem.message, 'check the URL, the network path and TLS (--ca-file)');
    lines.skipRest('the deployment could not be reached');
    return undefined;
  }
  const warning = versionWarning(version);
  if (!warning) lines.add('version', 'pass', `coderd ${version} is inside the supported range`);
  else if (/older than/.test(warning)) lines.add('version', 'fail', warning, 'upgrade coderd, or use an older coder-scaletest');
  else lines.add('version', 'warn', warning, 'results may differ from a checked release; report what differs');

  let me: S.User;
  try {
    me = await client.requireOwner();
    lines.add('owner', 'pass', `${me.username} is an owner`);
  } catch (error) {
    const problem = classifyAccessError(error, connection.url);
    lines.add(
      'owner',
      'fail',
      problem.message,
      problem.kind === 'not-owner'
        ? "use an owner's session token: a scale test creates users, which only owners may"
        : 'create a new session token (coder tokens create) and pass it with CODER_SESSION_TOKEN',
    );
    lines.skipRest("needs an owner's session token");
    return undefined;
  }
  return { version, me };
}
