// Deployment URLs as typed by users, in one canonical form (the SecretStorage key). No vscode import.
/** Normalises what a user types as a deployment URL, or throws saying what is wrong. */
export function normalizeDeploymentUrl(input: string): string {
  const trimmed = input.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`"${trimmed}" is not a URL: enter the deployment's access URL, e.g. https://coder.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`"${trimmed}" must start with https:// or http://`);
  }
  const pathname = url.pathname.replace(/\/+$/, '').replace(/\/api\/v2$/, '');
  return `${url.protocol}//${url.host}${pathname}`;
}
