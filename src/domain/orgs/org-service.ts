import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { hushError } from '../../errors.js';
import { translateDbErrors } from '../../store/db-errors.js';
import {
  deleteOrganization,
  findOrganizationById,
  findOrganizationBySlug,
  findOrganizationWithProject,
  insertMember,
  insertOrganization,
  listOrganizationsOfUser,
  updateOrganization,
} from '../../store/org-store.js';
import type { OrganizationRow, ProjectRow, Schema } from '../../store/schema.js';
import type { AuditService } from '../audit/audit-service.js';
import { now, type RequestContext } from '../context.js';
import type { KeyService } from '../keys/key-service.js';
import {
  authorize,
  authorizeOrgCreation,
  type OrgCreation,
  type Resource,
} from '../policy/authorize.js';
import type { Action } from '../policy/roles.js';
import type { UnitOfWork } from '../unit-of-work.js';

/** The public shape of an organization. */
export interface Organization {
  id: string;
  slug: string;
  name: string;
  plan: string;
  auditRetentionDays: number | null;
  createdAt: string;
}

export function toOrganization(row: OrganizationRow): Organization {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    plan: row.plan,
    auditRetentionDays: row.auditRetentionDays,
    createdAt: row.createdAt,
  };
}

/**
 * Finds an organization by slug and authorizes the action on it; the starting point of every
 * organization-scoped call. Throws ORGANIZATION_NOT_FOUND or PERMISSION_DENIED.
 */
export async function loadOrganization(
  db: Kysely<Schema>,
  ctx: RequestContext,
  slug: string,
  action: Action,
): Promise<OrganizationRow> {
  const org = await findOrganizationBySlug(db, slug);
  if (!org) throw hushError('ORGANIZATION_NOT_FOUND', `organization "${slug}" not found`);
  await authorize(db, ctx, action, organizationResource(org));
  return org;
}

/**
 * {@link loadOrganization} and, from the same query, the organization's project of
 * `projectSlug`: null when it has none (the caller decides whether that is an error, after the
 * organization has been authorized). Throws ORGANIZATION_NOT_FOUND or PERMISSION_DENIED.
 */
export async function loadOrganizationWithProject(
  db: Kysely<Schema>,
  ctx: RequestContext,
  slug: string,
  projectSlug: string,
  action: Action,
): Promise<{ org: OrganizationRow; project: ProjectRow | null }> {
  const found = await findOrganizationWithProject(db, slug, projectSlug);
  if (!found) throw hushError('ORGANIZATION_NOT_FOUND', `organization "${slug}" not found`);
  await authorize(db, ctx, action, organizationResource(found.org));
  return found;
}

/** What the policy checks for an action on the organization itself. */
export function organizationResource(org: OrganizationRow): Resource {
  return {
    orgId: org.id,
    orgSlug: org.slug,
    targetType: 'organization',
    targetId: org.id,
    targetName: org.slug,
  };
}

/** Organizations: create (the creator becomes Owner), list, show, edit, settings, delete. */
export function createOrgService(deps: {
  uow: UnitOfWork;
  audit: AuditService;
  keys: KeyService;
  /** Who may create organizations (the server's `orgCreation` setting). */
  orgCreation: OrgCreation;
}) {
  const { uow, audit, keys } = deps;

  /** Inserts an organization, its Owner and its first data key in `trx`, and audits it. */
  async function insertWithOwner(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    input: { slug: string; name?: string | undefined },
    owner: { id: string; email: string },
  ): Promise<Organization> {
    const row: OrganizationRow = {
      id: randomUUID(),
      slug: input.slug,
      name: input.name ?? input.slug,
      plan: 'free',
      auditRetentionDays: null,
      createdAt: now(),
      activeDataKeyId: null,
    };
    await translateDbErrors(() => insertOrganization(trx, row), {
      message: `organization "${input.slug}" already exists`,
      details: { field: 'slug' },
    });
    await insertMember(trx, { orgId: row.id, userId: owner.id, role: 'owner', createdAt: now() });
    await keys.createDataKey(trx, row.id);
    await audit.append(trx, ctx, {
      orgId: row.id,
      eventType: 'CREATE',
      targetType: 'organization',
      targetId: row.id,
      targetName: row.slug,
      change: `created organization ${row.slug} with owner ${owner.email}`,
      details: { organization: toOrganization(row), owner: owner.email },
    });
    return toOrganization(row);
  }

  /** Any signed-in person may create an organization and becomes its Owner. */
  function create(ctx: RequestContext, input: { slug: string; name?: string | undefined }) {
    return uow.write(ctx, async (trx) => {
      const owner = await authorizeOrgCreation(trx, ctx, deps.orgCreation);
      return insertWithOwner(trx, ctx, input, owner);
    });
  }

  /** Organizations the caller belongs to, with the caller's role. */
  async function list(ctx: RequestContext) {
    const actor = ctx.actor;
    return uow.read(ctx, async (db) => {
      if (actor.kind === 'user') {
        const rows = await listOrganizationsOfUser(db, actor.userId);
        return rows.map((r) => ({ ...toOrganization(r), role: r.role }));
      }
      if (actor.kind === 'service-token') {
        const row = await findOrganizationById(db, actor.orgId);
        return row ? [{ ...toOrganization(row), role: actor.role }] : [];
      }
      return [];
    });
  }

  function get(ctx: RequestContext, slug: string) {
    return uow.read(ctx, async (db) =>
      toOrganization(await loadOrganization(db, ctx, slug, 'org:read')),
    );
  }

  function rename(ctx: RequestContext, slug: string, name: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, slug, 'org:edit');
      await updateOrganization(trx, org.id, { name });
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'UPDATE',
        targetType: 'organization',
        targetId: org.id,
        targetName: org.slug,
        change: `renamed organization ${org.slug}`,
        details: { name: { from: org.name, to: name } },
      });
      return toOrganization({ ...org, name });
    });
  }

  /** Plan and audit retention: the billing settings (Owner, Admin, Billing Manager). */
  function updateBilling(
    ctx: RequestContext,
    slug: string,
    patch: { plan?: string | undefined; auditRetentionDays?: number | null | undefined },
  ) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, slug, 'billing:manage');
      const next = {
        plan: patch.plan ?? org.plan,
        auditRetentionDays:
          patch.auditRetentionDays === undefined
            ? org.auditRetentionDays
            : patch.auditRetentionDays,
      };
      await updateOrganization(trx, org.id, next);
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'UPDATE',
        targetType: 'settings',
        targetId: org.id,
        targetName: org.slug,
        change: `updated billing settings of ${org.slug}`,
        details: {
          before: { plan: org.plan, auditRetentionDays: org.auditRetentionDays },
          after: next,
        },
      });
      return toOrganization({ ...org, ...next });
    });
  }

  function remove(ctx: RequestContext, slug: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, slug, 'org:delete');
      // The event is appended first: the chain (no foreign key) outlives the organization.
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'DELETE',
        targetType: 'organization',
        targetId: org.id,
        targetName: org.slug,
        change: `deleted organization ${org.slug}`,
      });
      await deleteOrganization(trx, org.id);
    });
  }

  return { insertWithOwner, create, list, get, rename, updateBilling, remove };
}

export type OrgService = ReturnType<typeof createOrgService>;
