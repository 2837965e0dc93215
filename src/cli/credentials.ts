// The deployment and the owner's credentials from flags, environment and plan; credentials in a
// URL are dropped, never carried into logs or reports.
import * as fs from 'fs';
import type { DeploymentConnection } from '../coder/connection';
import type { Plan } from '../engine';
import { stringOption, UsageError, type OptionValues } from './args';
import type { Output } from './progress';

export function connectionFrom(values: OptionValues, env: NodeJS.ProcessEnv, stderr: Output, plan?: Plan): DeploymentConnection {
  const given = stringOption(values, 'url') ?? env.CODER_URL ?? plan?.deployment.url;
  if (!given) throw new UsageError('no deployment URL: pass --url, set CODER_URL, or set deployment.url in the plan');
  if (!/^https?:\/\//.test(given))
    throw new UsageError(`the deployment URL must start with http:// or https://, got "${redactUrl(given)}"`);
  const url = withoutCredentials(given, stderr);
  const token = stringOption(values, 'token') ?? tokenFromFile(stringOption(values, 'token-file')) ?? env.CODER_SESSION_TOKEN;
  if (!token) throw new UsageError("no session token: pass --token or set CODER_SESSION_TOKEN to a Coder owner's token");
  const caFile = stringOption(values, 'ca-file');
  if (caFile !== undefined) {
    try {
      fs.accessSync(caFile, fs.constants.R_OK);
    } catch {
      throw new UsageError(
        `--ca-file ${caFile}: no such readable file; pass the PEM file of the CA that signed the deployment's certificate`,
      );
    }
  }
  const insecure = values.insecure === true;
  const tls = caFile || insecure ? { caFile, insecure } : undefined;
  return { url, token, tls };
}

function tokenFromFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--token-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const token = text.trim();
  if (!token || /\s/.test(token)) throw new UsageError(`--token-file ${file}: expected one session token on one line`);
  return token;
}

/** A URL with any user name and password replaced, for messages. */
function redactUrl(url: string): string {
  return url.replace(/^(https?:\/\/)[^@/]*@/, '$1[credentials]@');
}

/**
 * Coder authenticates with the session token, never with credentials in the URL; these would
 * only end up in logs and reports, so they are dropped (and the user told so).
 */
export function withoutCredentials(url: string, stderr: Output): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`"${redactUrl(url)}" is not a valid deployment URL; expected e.g. https://coder.example.com`);
  }
  if (!parsed.username && !parsed.password) return url;
  parsed.username = '';
  parsed.password = '';
  stderr.write(`note: ignoring the user name and password in the deployment URL (Coder authenticates with the session token)\n`);
  return parsed.toString().replace(/\/$/, '');
}
