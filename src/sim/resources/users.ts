// Users, login and API tokens (coderd/users.go, coderd/userauth.go, coderd/apikey.go).
import * as S from '../../coder/schemas';
import { requireOwnerRole, userParam } from '../access';
import type { ApiHandlers } from '../context';
import { HttpError, requiredField, validationFailed } from '../http/errors';
import { page, paging, readJsonBody, searchTerms } from '../http/io';
import { hashSecret } from '../store';

const NAME_PATTERN = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * coderd rejects weak passwords (userpassword.Validate: at least 52 bits of entropy as
 * go-password-validator estimates it, at most 64 characters). Same estimate: log2 of the
 * character pool in use times the length, counting runs of one character at most twice.
 */
function passwordWeakness(password: string): string | undefined {
  if (password.length > 64) return 'password must be no more than 64 characters';
  const pools: [RegExp, number][] = [
    [/[a-z]/, 26],
    [/[A-Z]/, 26],
    [/[0-9]/, 10],
    [/[ !"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/, 33],
  ];
  let pool = pools.reduce((sum, [pattern, size]) => sum + (pattern.test(password) ? size : 0), 0);
  pool += new Set([...password].filter((c) => !pools.some(([pattern]) => pattern.test(c)))).size;
  const effectiveLength = password.replace(/(.)\1{2,}/g, '$1$1').length;
  const bits = pool > 0 ? Math.log2(pool) * effectiveLength : 0;
  return bits >= 52
    ? undefined
    : 'insecure password, try including more special characters, using uppercase letters, using numbers or using a longer password';
}

export const userHandlers = {
  // The login limit is applied by the router (coderd: a route group with its own limiter).
  login: async ({ sim, req }) => {
    const body = await readJsonBody(req, S.LoginWithPasswordRequest);
    const user = sim.store.users.findByEmail(body.email);
    if (!user || !user.passwordHash || user.passwordHash !== hashSecret(body.password)) {
      throw new HttpError(401, 'Incorrect email or password.');
    }
    return { status: 201, body: { session_token: sim.store.users.issueToken(user) } satisfies S.LoginWithPasswordResponse };
  },
  getUser: async (call, params) => ({ status: 200, body: call.sim.store.users.json(userParam(call, params.user!)) }),
  listUsers: async ({ sim, url, user: caller }) => {
    let users = [...sim.store.users.values()].filter((user) => caller!.owner || user.id === caller!.id);
    for (const term of searchTerms(url.searchParams.get('q') ?? '')) {
      const value = term.value.toLowerCase();
      if (!term.key) users = users.filter((u) => u.username.toLowerCase().includes(value) || u.email.toLowerCase().includes(value));
      else if (term.key === 'status') users = users.filter((u) => u.status === value);
      else if (term.key === 'role') users = users.filter((u) => (value === 'owner' ? u.owner : !u.owner && value === 'member'));
      else
        throw new HttpError(400, 'Invalid user search query.', undefined, [
          { field: term.key, detail: `"${term.key}" is not a valid query param` },
        ]);
    }
    users.sort((a, b) => a.username.toLowerCase().localeCompare(b.username.toLowerCase()));
    return {
      status: 200,
      body: { users: page(users, paging(url)).map((u) => sim.store.users.json(u)), count: users.length } satisfies S.GetUsersResponse,
    };
  },
  createUser: async (call) => {
    requireOwnerRole(call);
    const { store } = call.sim;
    const body = await readJsonBody(call.req, S.CreateUserRequestWithOrgs);
    const problems: S.ValidationError[] = [];
    if (!EMAIL_PATTERN.test(body.email))
      problems.push({ field: 'email', detail: `Validation failed for tag "email" with value: "${body.email}"` });
    if (!NAME_PATTERN.test(body.username) || body.username.length > 32) {
      problems.push({ field: 'username', detail: `Validation failed for tag "username" with value: "${body.username}"` });
    }
    const loginType = body.login_type || 'password';
    if (loginType === 'password' && !body.password) problems.push(requiredField('password'));
    if (problems.length) throw validationFailed(problems);
    if (loginType !== 'password' && body.password) {
      throw new HttpError(400, `Password cannot be set for non-password ("${loginType}") authentication.`);
    }
    if (!body.organization_ids?.length) {
      throw new HttpError(
        400,
        'No organization specified to place the user as a member of. It is required to specify at least one organization id to place the user in.',
        "required at least 1 value for the array 'organization_ids'",
        [{ field: 'organization_ids', detail: 'Missing values, this cannot be empty' }],
      );
    }
    if (store.users.find(body.username) || store.users.findByEmail(body.email)) throw new HttpError(409, 'User already exists.');
    for (const orgId of body.organization_ids) {
      if (orgId !== store.organization.id && orgId !== NIL_UUID) {
        throw new HttpError(404, `Organization does not exist with the provided id "${orgId}".`);
      }
    }
    const weakness = loginType === 'password' ? passwordWeakness(body.password ?? '') : undefined;
    if (weakness) throw new HttpError(400, 'Password not strong enough!', undefined, [{ field: 'password', detail: weakness }]);
    const user = store.users.add({ username: body.username, email: body.email, name: body.name, password: body.password, loginType });
    return { status: 201, body: store.users.json(user) };
  },
  deleteUser: async (call, params) => {
    requireOwnerRole(call);
    const { store } = call.sim;
    const user = userParam(call, params.user!);
    if (user.id === call.user!.id) throw new HttpError(403, 'You cannot delete yourself!');
    if ([...store.workspaces.values()].some((w) => !w.deleted && w.owner.id === user.id)) {
      throw new HttpError(417, 'You cannot delete a user that has workspaces. Delete their workspaces and try again!');
    }
    store.users.delete(user);
    return { status: 200, body: { message: 'User has been deleted!' } satisfies S.Response };
  },
  createToken: async (call, params) => {
    const user = userParam(call, params.user!);
    const body = await readJsonBody(call.req, S.CreateTokenRequest);
    if (body.lifetime !== undefined && body.lifetime < 0) {
      throw validationFailed([{ field: 'lifetime', detail: 'lifetime must be positive' }]);
    }
    const maxMs = call.sim.options.maxTokenLifetimeMs;
    if (body.lifetime && maxMs !== undefined && body.lifetime / 1e6 > maxMs) {
      throw new HttpError(400, 'Failed to validate create API key request.', `lifetime must be less than ${goDuration(maxMs)}`);
    }
    // coderd's default: 30 days, or the maximum when that is shorter.
    const lifetimeMs = body.lifetime ? body.lifetime / 1e6 : Math.min(30 * 24 * 3600_000, maxMs ?? Infinity);
    return { status: 201, body: { key: call.sim.store.users.issueToken(user, lifetimeMs) } satisfies S.GenerateAPIKeyResponse };
  },
  tokenConfig: async (call, params) => {
    userParam(call, params.user!);
    const maxMs = call.sim.options.maxTokenLifetimeMs;
    // Unset, coderd's --max-token-lifetime is math.MaxInt64 nanoseconds (sent as such).
    return { status: 200, body: { max_token_lifetime: maxMs === undefined ? MAX_INT64 : maxMs * 1e6 } satisfies S.TokenConfig };
  },
} satisfies ApiHandlers;

// Go's MaxInt64 (2^63 - 1) as JSON carries it: the nearest double, 2^63.
const MAX_INT64 = 2 ** 63;

/** A duration as Go's time.Duration.String() prints whole seconds, e.g. 168h0m0s. */
export function goDuration(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
