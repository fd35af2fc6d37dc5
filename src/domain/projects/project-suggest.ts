import type { Kysely } from 'kysely';

import {
  listEnvironmentSlugs,
  listProjectSlugs,
  listServiceNames,
} from '../../store/project-store.js';
import type { OrganizationRow, ProjectRow, Schema } from '../../store/schema.js';
import type { RequestContext } from '../context.js';
import { can, listableProjectIds, type Resource } from '../policy/authorize.js';
import { MAX_CANDIDATES, suggestionsOrNone, suggestNames } from '../suggest.js';

/**
 * Who asked for a name that was not found, in which organization. A suggestion tells that a
 * name exists, so only names this caller could list with the same credential are suggested.
 */
export interface Asker {
  ctx: RequestContext;
  org: OrganizationRow;
}

/**
 * Which of an organization's projects the actor sees in `project list`: those a token is
 * limited to, and of those the ones a custom role grants (every one for a built-in role).
 * Throws nothing the caller has not already passed (it reads the role, as `authorize` does).
 */
export async function projectVisibility(
  db: Kysely<Schema>,
  ctx: RequestContext,
  orgId: string,
): Promise<(projectId: string) => boolean> {
  const scope = ctx.actor.kind === 'service-token' ? ctx.actor.scope.projects : [];
  const granted = await listableProjectIds(db, ctx, orgId);
  return (id) =>
    (scope.length === 0 || scope.includes(id)) && (granted === 'all' || granted.has(id));
}

/**
 * Project slugs close to `wanted` that the asker could list: authorized as `project list` is
 * (`project:read` on the listing) and filtered per project as it filters. Throws nothing: an
 * asker who may not list gets no suggestion.
 */
export function suggestProjects(
  db: Kysely<Schema>,
  { ctx, org }: Asker,
  wanted: string,
): Promise<string[]> {
  return suggestionsOrNone(async () => {
    const listing: Resource = {
      orgId: org.id,
      orgSlug: org.slug,
      targetType: 'project',
      listing: true,
    };
    if (!(await can(db, ctx, 'project:read', listing))) return [];
    const visible = await projectVisibility(db, ctx, org.id);
    const rows = await listProjectSlugs(db, org.id, MAX_CANDIDATES);
    return suggestNames(
      wanted,
      rows.filter((r) => visible(r.id)).map((r) => r.slug),
    );
  });
}

/**
 * Environment slugs of a project close to `wanted` that the asker could list: authorized as
 * `env list` is (`environment:read` on the project), then per environment: its type must be
 * readable (a custom role's grant) and a token limited to environments sees only its own.
 * Throws nothing.
 */
export function suggestEnvironments(
  db: Kysely<Schema>,
  asker: Asker,
  project: ProjectRow,
  wanted: string,
): Promise<string[]> {
  return suggestionsOrNone(async () => {
    const readable = await environmentFilter(db, asker, project);
    if (!readable) return [];
    const rows = await listEnvironmentSlugs(db, project.id, MAX_CANDIDATES);
    const shown: string[] = [];
    for (const r of rows) if (await readable(r.id, r.type)) shown.push(r.slug);
    return suggestNames(wanted, shown);
  });
}

/**
 * Service names of a project close to `wanted` that the asker could list: authorized as
 * `service list` is, then per service as {@link suggestEnvironments} filters its environment
 * (a project-wide service is readable with the project). Throws nothing.
 */
export function suggestServices(
  db: Kysely<Schema>,
  asker: Asker,
  project: ProjectRow,
  wanted: string,
): Promise<string[]> {
  return suggestionsOrNone(async () => {
    const readable = await environmentFilter(db, asker, project);
    if (!readable) return [];
    const rows = await listServiceNames(db, project.id, MAX_CANDIDATES);
    const shown: string[] = [];
    for (const r of rows) {
      if (r.environmentId === null || (await readable(r.environmentId, r.environmentType ?? '')))
        shown.push(r.name);
    }
    return suggestNames(wanted, shown);
  });
}

/**
 * Null when the asker may not list the project's environments; otherwise whether it may read
 * one environment, checked once per environment type (a custom role grants by type).
 */
async function environmentFilter(
  db: Kysely<Schema>,
  { ctx, org }: Asker,
  project: ProjectRow,
): Promise<((id: string, type: string) => Promise<boolean>) | null> {
  const resource: Resource = {
    orgId: org.id,
    orgSlug: org.slug,
    targetType: 'project',
    targetId: project.id,
    targetName: project.slug,
    projectId: project.id,
  };
  if (!(await can(db, ctx, 'environment:read', resource))) return null;
  // Reads are allowed around a token's environments; a suggestion stays inside them.
  const own = ctx.actor.kind === 'service-token' ? ctx.actor.scope.environments : [];
  const byType = new Map<string, boolean>();
  return async (id, type) => {
    if (own.length > 0 && !own.includes(id)) return false;
    let allowed = byType.get(type);
    if (allowed === undefined) {
      allowed = await can(db, ctx, 'environment:read', { ...resource, environmentType: type });
      byType.set(type, allowed);
    }
    return allowed;
  };
}
