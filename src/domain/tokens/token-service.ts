import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { type HushError, hushError, invalid } from '../../errors.js';
import {
  findLiveApiTokens,
  insertApiToken,
  listApiTokens,
  revokeApiToken,
  type TokenOwner,
} from '../../store/account-store.js';
import { translateDbErrors } from '../../store/db-errors.js';
import type { ApiTokenRow, OrganizationRow, Schema } from '../../store/schema.js';
import { hashToken, newToken } from '../accounts/credentials.js';
import type { AuditService } from '../audit/audit-service.js';
import { currentTime, now, type RequestContext, type TokenScope } from '../context.js';
import { readIdRef, resolveIdRef } from '../ids.js';
import { loadOrganization } from '../orgs/org-service.js';
import { assertAssignableRole } from '../orgs/role-service.js';
import { loadEnvironment, loadProjectRow } from '../projects/project-service.js';
import type { UnitOfWork } from '../unit-of-work.js';

export interface ServiceTokenInput {
  name: string;
  role: string;
  /** Project slugs the token is limited to (empty: all). */
  projects: string[];
  /** `project/env` slugs the token is limited to (empty: all). */
  environments: string[];
  expiresInDays?: number | undefined;
}

function toToken(row: ApiTokenRow) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    role: row.role,
    scope: JSON.parse(row.scope) as TokenScope,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
  };
}

function expiry(days: number | undefined): string | null {
  return days === undefined
    ? null
    : new Date(currentTime().getTime() + days * 86400_000).toISOString();
}

/**
 * Revokes the live token of `owner` that `ref` names: by name first (a name may look like an
 * id), else by its id or a unique prefix of it (see `resolveIdRef`). Returns the revoked row;
 * throws `notFound()` when neither names one and CONFLICT for an ambiguous prefix.
 */
async function revokeByNameOrId(
  trx: Kysely<Schema>,
  owner: TokenOwner,
  ref: string,
  at: string,
  notFound: () => HushError,
): Promise<ApiTokenRow> {
  const named = await revokeApiToken(trx, owner, { name: ref }, at);
  if (named) return named;
  // Neither a name nor an id (or a prefix of one): not found, as before ids were taken here.
  if ('problem' in readIdRef(ref)) throw notFound();
  const row = await resolveIdRef(ref, {
    noun: 'token',
    exact: async (id) => (await findLiveApiTokens(trx, owner, { id }, 1))[0],
    byPrefix: (prefix, limit) => findLiveApiTokens(trx, owner, { prefix }, limit),
    notFound,
  });
  const revoked = await revokeApiToken(trx, owner, { id: row.id }, at);
  if (!revoked) throw notFound();
  return revoked;
}

/** Personal and service API tokens: created once (the only time the token is shown), listed, revoked. */
export function createTokenService(deps: { uow: UnitOfWork; audit: AuditService }) {
  const { uow, audit } = deps;

  async function resolveScope(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    org: OrganizationRow,
    input: ServiceTokenInput,
  ): Promise<TokenScope> {
    const projects: string[] = [];
    for (const slug of input.projects) {
      const project = await loadProjectRow(trx, org, slug, ctx);
      projects.push(project.id);
    }
    const environments: string[] = [];
    for (const ref of input.environments) {
      const [projectSlug, envSlug] = ref.split('/');
      if (!projectSlug || !envSlug) throw invalid('environments', 'use PROJECT/ENV');
      const project = await loadProjectRow(trx, org, projectSlug, ctx);
      // Limited to projects and environments both: each environment is in a listed project,
      // or the token would reach an environment its project list excludes (or none at all).
      if (projects.length > 0 && !projects.includes(project.id))
        throw invalid('environments', `${ref} is not in one of the listed projects`);
      environments.push((await loadEnvironment(trx, project, envSlug, { ctx, org })).id);
    }
    return { projects, environments };
  }

  function createServiceToken(ctx: RequestContext, orgSlug: string, input: ServiceTokenInput) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'tokens:manage');
      await assertAssignableRole(trx, org.id, input.role);
      const scope = await resolveScope(trx, ctx, org, input);
      const token = newToken('service');
      const row: ApiTokenRow = {
        id: randomUUID(),
        kind: 'service',
        orgId: org.id,
        userId: null,
        name: input.name,
        role: input.role,
        scope: JSON.stringify(scope),
        tokenHash: hashToken(token),
        createdBy: ctx.actor.kind === 'user' ? ctx.actor.userId : null,
        createdAt: now(),
        expiresAt: expiry(input.expiresInDays),
        revokedAt: null,
        lastUsedAt: null,
      };
      await translateDbErrors(() => insertApiToken(trx, row), {
        message: `a token named "${input.name}" already exists`,
        details: { field: 'name' },
      });
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'CREATE',
        targetType: 'token',
        targetId: row.id,
        targetName: row.name,
        change: `created service token ${row.name} with role ${input.role}`,
        details: { token: toToken(row) },
      });
      return { ...toToken(row), token };
    });
  }

  function listServiceTokens(ctx: RequestContext, orgSlug: string) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'tokens:manage');
      return (await listApiTokens(db, { orgId: org.id })).map(toToken);
    });
  }

  function revokeServiceToken(ctx: RequestContext, orgSlug: string, name: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'tokens:manage');
      const row = await revokeByNameOrId(trx, { orgId: org.id }, name, now(), () =>
        hushError('TOKEN_NOT_FOUND', `no live token named "${name}" (nor with that id)`),
      );
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'DELETE',
        targetType: 'token',
        targetId: row.id,
        targetName: row.name,
        change: `revoked service token ${row.name}`,
      });
    });
  }

  function requireUser(ctx: RequestContext) {
    if (ctx.actor.kind !== 'user') {
      throw hushError('PERMISSION_DENIED', 'personal tokens belong to people', {
        permission: 'user',
      });
    }
    return ctx.actor;
  }

  /** A personal token acts as its user; its events go to the user's organizations. */
  function createPersonalToken(
    ctx: RequestContext,
    input: { name: string; expiresInDays?: number | undefined },
  ) {
    const user = requireUser(ctx);
    return uow.write(ctx, async (trx) => {
      const token = newToken('personal');
      const row: ApiTokenRow = {
        id: randomUUID(),
        kind: 'personal',
        orgId: null,
        userId: user.userId,
        name: input.name,
        role: null,
        scope: JSON.stringify({ projects: [], environments: [] }),
        tokenHash: hashToken(token),
        createdBy: user.userId,
        createdAt: now(),
        expiresAt: expiry(input.expiresInDays),
        revokedAt: null,
        lastUsedAt: null,
      };
      await translateDbErrors(() => insertApiToken(trx, row), {
        message: `a personal token named "${input.name}" already exists`,
        details: { field: 'name' },
      });
      await audit.appendForUser(trx, ctx, user.userId, {
        eventType: 'CREATE',
        targetType: 'token',
        targetId: row.id,
        targetName: row.name,
        change: `created personal token ${row.name} for ${user.email}`,
        details: { token: toToken(row) },
      });
      return { ...toToken(row), token };
    });
  }

  function listPersonalTokens(ctx: RequestContext) {
    const user = requireUser(ctx);
    return uow.read(ctx, async (db) =>
      (await listApiTokens(db, { userId: user.userId })).map(toToken),
    );
  }

  function revokePersonalToken(ctx: RequestContext, name: string) {
    const user = requireUser(ctx);
    return uow.write(ctx, async (trx) => {
      const row = await revokeByNameOrId(trx, { userId: user.userId }, name, now(), () =>
        hushError('TOKEN_NOT_FOUND', `no live personal token named "${name}" (nor with that id)`),
      );
      await audit.appendForUser(trx, ctx, user.userId, {
        eventType: 'DELETE',
        targetType: 'token',
        targetId: row.id,
        targetName: row.name,
        change: `revoked personal token ${row.name} of ${user.email}`,
      });
    });
  }

  return {
    createServiceToken,
    listServiceTokens,
    revokeServiceToken,
    createPersonalToken,
    listPersonalTokens,
    revokePersonalToken,
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
