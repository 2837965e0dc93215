// The simulated deployment's users and their session tokens (coderd's users and api_keys
// tables): token format and checks as coderd's, users dormant until first seen.
import * as crypto from 'crypto';
import type * as S from '../coder/schemas';
import { userBody } from './bodies';

export interface SimUser {
  id: string;
  username: string;
  email: string;
  name: string;
  passwordHash?: string;
  loginType: S.LoginTypeValue;
  owner: boolean;
  /** coderd creates users dormant; their first authenticated request makes them active. */
  status: 'active' | 'dormant';
  createdAt: string;
  updatedAt: string;
  lastSeenAt: string;
}

const now = () => new Date().toISOString();
/** Go's zero time, which coderd reports as last_seen_at of a user never seen. */
const DORMANT_LAST_SEEN = '0001-01-01T00:00:00Z';

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export function randomAlphanumeric(length: number): string {
  const bytes = crypto.randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[bytes[i]! % ALPHANUMERIC.length];
  return out;
}

/**
 * coderd's users and api_keys tables. The store holds one (`store.users`) rather than extending
 * it: of the deployment it needs only the organization's id.
 */
export class SimUsers {
  private readonly byId = new Map<string, SimUser>();
  private readonly tokens = new Map<string, { secretHash: string; userId: string; expiresAt: number }>();

  /** Every user belongs to this organization (their JSON names it). */
  constructor(private readonly organizationId: string) {}

  get size(): number {
    return this.byId.size;
  }

  values(): IterableIterator<SimUser> {
    return this.byId.values();
  }

  add(input: { username: string; email: string; name?: string; password?: string; loginType: S.LoginTypeValue; owner?: boolean }): SimUser {
    const created = now();
    const user: SimUser = {
      id: crypto.randomUUID(),
      username: input.username,
      email: input.email,
      name: input.name ?? '',
      passwordHash: input.password === undefined ? undefined : hashSecret(input.password),
      loginType: input.loginType,
      owner: input.owner ?? false,
      status: input.owner ? 'active' : 'dormant',
      createdAt: created,
      updatedAt: created,
      lastSeenAt: input.owner ? created : DORMANT_LAST_SEEN,
    };
    this.byId.set(user.id, user);
    return user;
  }

  /** By id, username (case-insensitive) or `me` (resolved against `self`). */
  find(ref: string, self?: SimUser): SimUser | undefined {
    if (ref === 'me') return self;
    const byId = this.byId.get(ref);
    if (byId) return byId;
    const lower = ref.toLowerCase();
    for (const user of this.byId.values()) if (user.username.toLowerCase() === lower) return user;
    return undefined;
  }

  findByEmail(email: string): SimUser | undefined {
    const lower = email.toLowerCase();
    for (const user of this.byId.values()) if (user.email.toLowerCase() === lower) return user;
    return undefined;
  }

  delete(user: SimUser): void {
    this.byId.delete(user.id);
    for (const [id, token] of this.tokens) if (token.userId === user.id) this.tokens.delete(id);
  }

  /** Issues a session token in coderd's `<10-char id>-<22-char secret>` format. */
  issueToken(user: SimUser, lifetimeMs = 24 * 3600_000): string {
    const id = randomAlphanumeric(10);
    const secret = randomAlphanumeric(22);
    this.tokens.set(id, { secretHash: hashSecret(secret), userId: user.id, expiresAt: Date.now() + lifetimeMs });
    return `${id}-${secret}`;
  }

  forToken(token: string): SimUser | undefined {
    const match = /^([A-Za-z0-9]{10})-([A-Za-z0-9]{22})$/.exec(token);
    if (!match) return undefined;
    const stored = this.tokens.get(match[1]!);
    if (!stored || stored.expiresAt < Date.now()) return undefined;
    const given = Buffer.from(hashSecret(match[2]!));
    if (!crypto.timingSafeEqual(given, Buffer.from(stored.secretHash))) return undefined;
    return this.byId.get(stored.userId);
  }

  json(user: SimUser): S.User {
    return userBody(user, this.organizationId);
  }

  /** An authenticated request: the user was seen (and is no longer dormant). */
  markSeen(user: SimUser): void {
    const seen = now();
    if (user.status === 'dormant') {
      user.status = 'active';
      user.updatedAt = seen;
    }
    user.lastSeenAt = seen;
  }
}
