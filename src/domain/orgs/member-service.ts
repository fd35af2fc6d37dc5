import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { hushError } from '../../errors.js';
import { findUserByEmail, insertUser } from '../../store/account-store.js';
import { translateDbErrors } from '../../store/db-errors.js';
import {
  deleteMember,
  findMemberByEmail,
  findOrganizationById,
  findPendingInvitation,
  findPendingInvitationsById,
  insertInvitation,
  insertMember,
  listMembers,
  listPendingInvitations,
  markInvitationAccepted,
  revokeInvitation,
  updateMemberRole,
} from '../../store/org-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import type { AuthService, Session } from '../accounts/auth-service.js';
import { hashPassword, hashToken, newToken, verifyPassword } from '../accounts/credentials.js';
import type { AuditService } from '../audit/audit-service.js';
import { currentTime, now, type RequestContext } from '../context.js';
import { resolveIdRef } from '../ids.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { invisibleProblem } from '../validation.js';
import { memberNotFound } from './member-suggest.js';
import { loadOrganization } from './org-service.js';
import { assertAssignableRole } from './role-service.js';
import { changeMemberRole } from './role-writes.js';

const INVITATION_TTL_DAYS = 7;

/** Members and invitations of an organization. */
export function createMemberService(deps: {
  db: Kysely<Schema>;
  uow: UnitOfWork;
  audit: AuditService;
  auth: AuthService;
}) {
  const { db, uow, audit, auth } = deps;

  function list(ctx: RequestContext, orgSlug: string) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
      const rows = await listMembers(db, org.id);
      return rows.map((m) => ({
        id: m.userId,
        email: m.email,
        role: m.role,
        joinedAt: m.createdAt,
      }));
    });
  }

  /** Creates an invitation and returns its one-time token (only the hash is stored). */
  function invite(ctx: RequestContext, orgSlug: string, email: string, role: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'members:manage');
      await assertAssignableRole(trx, org.id, role);
      if (await findMemberByEmail(trx, org.id, email)) {
        throw hushError('CONFLICT', `${email} is already a member of ${org.slug}`, {
          field: 'email',
        });
      }
      const token = newToken('invitation');
      const id = randomUUID();
      const createdAt = now();
      const expiresAt = new Date(
        currentTime().getTime() + INVITATION_TTL_DAYS * 86400_000,
      ).toISOString();
      await insertInvitation(trx, {
        id,
        orgId: org.id,
        email,
        role,
        tokenHash: hashToken(token),
        invitedBy: ctx.actor.kind === 'user' ? ctx.actor.userId : null,
        createdAt,
        expiresAt,
        acceptedAt: null,
        revokedAt: null,
      });
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'CREATE',
        targetType: 'invitation',
        targetId: id,
        targetName: email,
        change: `invited ${email} as ${role}`,
        details: { email, role, expiresAt },
      });
      return { id, email, role, organization: org.slug, expiresAt, token };
    });
  }

  function listInvitations(ctx: RequestContext, orgSlug: string) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'members:manage');
      return listPendingInvitations(db, org.id, now());
    });
  }

  /**
   * What a pending invitation is for, so that the invitee sees it before accepting: the
   * organization, the role, the invited e-mail and the expiry. Reads only; the token is the
   * credential. Throws INVITATION_NOT_FOUND for an unknown, used, revoked or expired token.
   */
  async function inspect(token: string) {
    const invitation = await findPendingInvitation(db, hashToken(token), now());
    const org = invitation ? await findOrganizationById(db, invitation.orgId) : undefined;
    if (!invitation || !org) {
      throw hushError(
        'INVITATION_NOT_FOUND',
        'the invitation is unknown, used, revoked or expired',
      );
    }
    return {
      organization: { slug: org.slug, name: org.name },
      role: invitation.role,
      email: invitation.email,
      expiresAt: invitation.expiresAt,
    };
  }

  /**
   * Accepts an invitation: creates the account with `password`, or joins with the existing
   * account whose password it must match; then opens a session. Throws INVITATION_NOT_FOUND.
   */
  async function accept(ctx: RequestContext, token: string, password: string): Promise<Session> {
    const invitation = await findPendingInvitation(db, hashToken(token), now());
    if (!invitation) {
      throw hushError(
        'INVITATION_NOT_FOUND',
        'the invitation is unknown, used, revoked or expired',
      );
    }
    // An invitation made before e-mails were checked for invisible characters could otherwise
    // still create a look-alike account (owner\u200b@…).
    if (invisibleProblem(invitation.email)) {
      throw hushError(
        'VALIDATION_FAILED',
        'token: this invitation is for an e-mail with invisible or direction-changing characters; ask for a new one',
        { fields: [{ field: 'token', message: 'invitation e-mail not allowed' }] },
      );
    }
    // The same brake as sign-in: otherwise an invitation to any e-mail would be a free
    // password oracle for that account.
    await auth.brake.admit(invitation.email);
    const existing = await findUserByEmail(db, invitation.email);
    if (existing && !(await verifyPassword(password, existing.passwordHash))) {
      await refuseAcceptance(ctx, invitation, existing.id);
    }
    await auth.brake.succeeded(invitation.email);
    const passwordHash = existing ? null : await hashPassword(password);
    return db.transaction().execute(async (trx) => {
      if (!(await markInvitationAccepted(trx, invitation.id, now()))) {
        throw hushError('INVITATION_NOT_FOUND', 'the invitation was already used');
      }
      const user = existing ?? {
        id: randomUUID(),
        email: invitation.email,
        passwordHash: passwordHash ?? '',
        createdAt: now(),
      };
      if (!existing) await insertUser(trx, user);
      await translateDbErrors(
        () =>
          insertMember(trx, {
            orgId: invitation.orgId,
            userId: user.id,
            role: invitation.role,
            createdAt: now(),
          }),
        { code: 'CONFLICT', message: `${user.email} is already a member` },
      );
      const memberCtx: RequestContext = {
        ...ctx,
        actor: { kind: 'user', userId: user.id, email: user.email },
      };
      await audit.append(trx, memberCtx, {
        orgId: invitation.orgId,
        eventType: 'CREATE',
        targetType: 'member',
        targetId: user.id,
        targetName: user.email,
        change: `${user.email} joined ${invitation.orgSlug} as ${invitation.role}`,
        details: { invitationId: invitation.id, role: invitation.role, newAccount: !existing },
      });
      return auth.openSession(trx, ctx, user);
    });
  }

  /**
   * A wrong password for the existing account an invitation names: audited as LOGIN_FAILED in
   * the inviting organization and in the account's own, and answered as a sign-in is.
   */
  async function refuseAcceptance(
    ctx: RequestContext,
    invitation: { id: string; orgId: string; email: string },
    userId: string,
  ): Promise<never> {
    const anonymous: RequestContext = { ...ctx, actor: { kind: 'anonymous' } };
    const entry = {
      eventType: 'LOGIN_FAILED',
      targetType: 'member',
      targetId: userId,
      targetName: invitation.email,
      change: 'invitation acceptance refused: wrong password for the existing account',
      details: { reason: 'wrong-password', invitationId: invitation.id },
    } as const;
    await db.transaction().execute(async (trx) => {
      await audit.append(trx, anonymous, { ...entry, orgId: invitation.orgId });
      await audit.appendForUser(trx, anonymous, userId, entry);
    });
    throw hushError('INVALID_CREDENTIALS', 'wrong e-mail or password');
  }

  /** A member by e-mail; MEMBER_NOT_FOUND names the close members the caller could list. */
  async function loadMember(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    org: OrganizationRow,
    email: string,
  ) {
    const member = await findMemberByEmail(trx, org.id, email);
    if (!member) throw await memberNotFound(trx, ctx, org, email);
    return member;
  }

  function setRole(ctx: RequestContext, orgSlug: string, email: string, role: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'members:manage');
      await assertAssignableRole(trx, org.id, role);
      const member = await loadMember(trx, ctx, org, email);
      await changeMemberRole(trx, { audit, ctx }, org, member, role);
      return { id: member.userId, email, role };
    });
  }

  function remove(ctx: RequestContext, orgSlug: string, email: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'members:manage');
      const member = await loadMember(trx, ctx, org, email);
      if (member.role === 'owner') {
        throw hushError('CONFLICT', 'the Owner cannot be removed; transfer ownership first');
      }
      await deleteMember(trx, org.id, member.userId);
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'DELETE',
        targetType: 'member',
        targetId: member.userId,
        targetName: email,
        change: `removed ${email} (${member.role})`,
      });
    });
  }

  function revokePendingInvitation(ctx: RequestContext, orgSlug: string, id: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'members:manage');
      const notFound = () => hushError('INVITATION_NOT_FOUND', `no pending invitation ${id}`);
      // The id, or a unique prefix of it as the CLI and console show ids.
      const pending = await resolveIdRef(id, {
        noun: 'invitation',
        exact: async (exact) => (await findPendingInvitationsById(trx, org.id, { id: exact }))[0],
        byPrefix: (prefix, limit) => findPendingInvitationsById(trx, org.id, { prefix, limit }),
        notFound,
      });
      const row = await revokeInvitation(trx, org.id, pending.id, now());
      if (!row) throw notFound();
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'DELETE',
        targetType: 'invitation',
        targetId: row.id,
        targetName: row.email,
        change: `revoked the invitation of ${row.email} as ${row.role}`,
      });
    });
  }

  /** Makes another member the Owner; the previous Owner becomes an Admin. Owner only. */
  function transferOwnership(ctx: RequestContext, orgSlug: string, email: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'ownership:transfer');
      const next = await loadMember(trx, ctx, org, email);
      if (next.role === 'owner') throw hushError('CONFLICT', `${email} is already the Owner`);
      const current = (await listMembers(trx, org.id)).find((m) => m.role === 'owner');
      if (current) await updateMemberRole(trx, org.id, current.userId, 'admin');
      await updateMemberRole(trx, org.id, next.userId, 'owner');
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'UPDATE',
        targetType: 'member',
        targetId: next.userId,
        targetName: email,
        change: `transferred ownership of ${org.slug} from ${current?.email ?? 'nobody'} to ${email}`,
        details: { from: current?.email ?? null, to: email, previousOwnerRole: 'admin' },
      });
      return { id: next.userId, email, role: 'owner' };
    });
  }

  return {
    list,
    invite,
    listInvitations,
    revokeInvitation: revokePendingInvitation,
    inspect,
    accept,
    setRole,
    remove,
    transferOwnership,
  };
}

export type MemberService = ReturnType<typeof createMemberService>;
