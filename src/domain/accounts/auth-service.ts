import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { hushError } from '../../errors.js';
import {
  countUsers,
  deleteInstanceSetting,
  findLiveApiToken,
  findLiveSession,
  findUserByEmail,
  findUserById,
  getInstanceSetting,
  insertSession,
  revokeSession,
  setInstanceSetting,
} from '../../store/account-store.js';
import { listOrganizationsOfUser } from '../../store/org-store.js';
import type { Schema } from '../../store/schema.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Actor, RequestContext, TokenScope } from '../context.js';
import { currentTime, now } from '../context.js';
import { mayCreateOrganizations, type OrgCreation } from '../policy/authorize.js';
import type { TokenUsage } from '../tokens/token-usage.js';
import {
  DUMMY_PASSWORD_HASH,
  hashToken,
  newToken,
  tokenKindOf,
  verifyPassword,
} from './credentials.js';
import { createSignInBrake, type SignInBrake } from './sign-in-brake.js';

const SETUP_TOKEN_KEY = 'setup_token_hash';

export interface Session {
  token: string;
  expiresAt: string;
  user: { id: string; email: string };
}

/**
 * Sign-in, sessions and bearer-token authentication. Throws INVALID_CREDENTIALS on a wrong
 * e-mail or password (after auditing LOGIN_FAILED), RATE_LIMITED while the sign-in brake holds
 * the account, and UNAUTHENTICATED on a dead token.
 */
export function createAuthService(deps: {
  db: Kysely<Schema>;
  audit: AuditService;
  sessionTtlHours: number;
  /** Defaults to one on `db`; tests pass one with their own clock. */
  brake?: SignInBrake;
  /** Who may create organizations (whoami tells the console whether to offer it). */
  orgCreation?: OrgCreation;
  /** Notes when API tokens are used (the hygiene report's "last used"). */
  usage?: TokenUsage;
}) {
  const { db, audit } = deps;
  const brake = deps.brake ?? createSignInBrake(db);

  /** Opens a session for a user inside `trx` and audits the LOGIN. */
  async function openSession(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    user: { id: string; email: string },
  ): Promise<Session> {
    const token = newToken('session');
    const createdAt = now();
    const expiresAt = new Date(
      currentTime().getTime() + deps.sessionTtlHours * 3600_000,
    ).toISOString();
    const sessionId = randomUUID();
    await insertSession(trx, {
      id: sessionId,
      userId: user.id,
      tokenHash: hashToken(token),
      tool: ctx.tool,
      createdAt,
      expiresAt,
      revokedAt: null,
    });
    const actorCtx: RequestContext = {
      ...ctx,
      actor: { kind: 'user', userId: user.id, email: user.email, sessionId },
    };
    await audit.appendForUser(trx, actorCtx, user.id, {
      eventType: 'LOGIN',
      targetType: 'member',
      targetId: user.id,
      targetName: user.email,
      change: 'signed in',
      details: { sessionId, expiresAt },
    });
    return { token, expiresAt, user: { id: user.id, email: user.email } };
  }

  /** Checks e-mail and password; success opens a session, failure is audited and refused. */
  async function login(ctx: RequestContext, email: string, password: string): Promise<Session> {
    await brake.admit(email);
    const user = await findUserByEmail(db, email);
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !ok) {
      await db.transaction().execute((trx) =>
        audit.appendForUser(trx, { ...ctx, actor: { kind: 'anonymous' } }, user?.id ?? null, {
          eventType: 'LOGIN_FAILED',
          targetType: 'member',
          targetId: user?.id ?? null,
          targetName: email,
          change: 'sign-in refused: wrong e-mail or password',
          details: { reason: user ? 'wrong-password' : 'unknown-email' },
        }),
      );
      throw hushError('INVALID_CREDENTIALS', 'wrong e-mail or password');
    }
    await brake.succeeded(email);
    return db.transaction().execute((trx) => openSession(trx, ctx, user));
  }

  /** Revokes the caller's session (a no-op for token-authenticated callers). */
  async function logout(ctx: RequestContext): Promise<void> {
    const actor = ctx.actor;
    if (actor.kind !== 'user' || !actor.sessionId) return;
    const sessionId = actor.sessionId;
    await db.transaction().execute(async (trx) => {
      if (!(await revokeSession(trx, sessionId, now()))) return;
      await audit.appendForUser(trx, ctx, actor.userId, {
        eventType: 'DELETE',
        targetType: 'token',
        targetId: sessionId,
        targetName: 'session',
        change: 'signed out',
      });
    });
  }

  /** Turns a bearer token (session, personal or service) into an actor; null when unknown. */
  async function authenticate(token: string): Promise<Actor | null> {
    const at = now();
    const kind = tokenKindOf(token);
    if (kind === 'session') {
      const s = await findLiveSession(db, hashToken(token), at);
      return s ? { kind: 'user', userId: s.userId, email: s.email, sessionId: s.id } : null;
    }
    if (kind !== 'personal' && kind !== 'service') return null;
    const t = await findLiveApiToken(db, hashToken(token), at);
    if (!t || t.kind !== kind) return null;
    deps.usage?.touch(t.id);
    if (t.kind === 'personal' && t.userId && t.email) {
      return { kind: 'user', userId: t.userId, email: t.email, tokenId: t.id };
    }
    if (t.kind === 'service' && t.orgId && t.role) {
      return {
        kind: 'service-token',
        tokenId: t.id,
        name: t.name,
        orgId: t.orgId,
        role: t.role,
        scope: JSON.parse(t.scope) as TokenScope,
        // The left join found the organization (its columns are not null) when the slug is set.
        ...(t.orgSlug !== null && {
          organization: {
            org: {
              id: t.orgId,
              slug: t.orgSlug,
              name: t.orgName!,
              plan: t.orgPlan!,
              auditRetentionDays: t.orgAuditRetentionDays,
              createdAt: t.orgCreatedAt!,
              activeDataKeyId: t.orgActiveDataKeyId,
            },
            changeSeq: Number(t.orgChangeSeq ?? 0),
          },
        }),
      };
    }
    return null;
  }

  /** The signed-in person and their organizations (or the token and its organization). */
  async function whoami(ctx: RequestContext) {
    const actor = ctx.actor;
    if (actor.kind === 'user') {
      const user = await findUserById(db, actor.userId);
      if (!user) throw hushError('UNAUTHENTICATED', 'the account no longer exists');
      const orgs = await listOrganizationsOfUser(db, user.id);
      return {
        kind: 'user' as const,
        id: user.id,
        email: user.email,
        via: actor.tokenId ? 'personal-token' : 'session',
        organizations: orgs.map((o) => ({ id: o.id, slug: o.slug, role: o.role })),
        canCreateOrganizations: mayCreateOrganizations(orgs, deps.orgCreation ?? 'admins-only'),
      };
    }
    if (actor.kind === 'service-token') {
      return {
        kind: 'service-token' as const,
        id: actor.tokenId,
        name: actor.name,
        organizations: [
          {
            id: actor.orgId,
            ...(actor.organization && { slug: actor.organization.org.slug }),
            role: actor.role,
          },
        ],
      };
    }
    throw hushError('UNAUTHENTICATED', 'sign in first');
  }

  /** When no account exists yet, makes a fresh one-time setup token (its hash is stored). */
  async function issueSetupToken(): Promise<string | null> {
    if ((await countUsers(db)) > 0) return null;
    const token = newToken('setup');
    await setInstanceSetting(db, SETUP_TOKEN_KEY, hashToken(token));
    return token;
  }

  /** Whether first-run setup is still open. */
  async function setupOpen(): Promise<boolean> {
    return (await countUsers(db)) === 0;
  }

  /** Consumes the setup token inside `trx`; throws UNAUTHENTICATED when it does not match. */
  async function consumeSetupToken(trx: Kysely<Schema>, token: string): Promise<void> {
    const stored = await getInstanceSetting(trx, SETUP_TOKEN_KEY);
    if ((await countUsers(trx)) > 0) throw hushError('ALREADY_SET_UP', 'Hush is already set up');
    if (!stored || stored !== hashToken(token)) {
      throw hushError(
        'UNAUTHENTICATED',
        'the setup token is wrong; use the one the server printed',
      );
    }
    await deleteInstanceSetting(trx, SETUP_TOKEN_KEY);
  }

  return {
    brake,
    login,
    logout,
    authenticate,
    whoami,
    openSession,
    issueSetupToken,
    setupOpen,
    consumeSetupToken,
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
