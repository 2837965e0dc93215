// coderd's API key middleware: the session token (header, cookie or query) names a user;
// a missing or unknown token is a 401 with coderd's wording.
import type * as http from 'http';
import { HttpError, SIGNED_OUT } from '../http/errors';
import { tokenOf } from '../http/io';
import type { SimStore, SimUser } from '../store';

export function authenticate(store: SimStore, req: http.IncomingMessage, url: URL): SimUser | undefined {
  const token = tokenOf(req, url);
  return token ? store.users.forToken(token) : undefined;
}

export function unauthorized(req: http.IncomingMessage, url: URL): HttpError {
  return tokenOf(req, url)
    ? new HttpError(401, SIGNED_OUT, 'API key is invalid or has expired.')
    : new HttpError(401, SIGNED_OUT, 'Cookie "coder_session_token" or header "Coder-Session-Token" must be provided.');
}
