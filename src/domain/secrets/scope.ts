import type { Kysely } from 'kysely';

import { invalid } from '../../errors.js';
import { findEnvironmentById } from '../../store/project-store.js';
import type {
  EnvironmentRow,
  OrganizationRow,
  ProjectRow,
  Schema,
  ServiceRow,
} from '../../store/schema.js';
import type { RequestContext } from '../context.js';
import { loadOrganization, loadOrganizationWithProject } from '../orgs/org-service.js';
import type { Resource } from '../policy/authorize.js';
import {
  loadEnvironment,
  loadProjectRow,
  loadService,
  projectNotFound,
} from '../projects/project-service.js';
import { type Asker, suggestProjects } from '../projects/project-suggest.js';
import type { Level } from './resolve.js';

/** Where a secret lives, as a client names it: nothing (organization), or project [+ env | service]. */
export interface LevelRef {
  project?: string | undefined;
  env?: string | undefined;
  service?: string | undefined;
}

/** A level resolved to rows: what the secret row stores and what `authorize` checks. */
export interface ResolvedLevel {
  level: Level;
  scopeId: string;
  project: ProjectRow | null;
  environment: EnvironmentRow | null;
  service: ServiceRow | null;
  /** Human name of the level, e.g. `project maps` or `service maps/sync`. */
  label: string;
}

/**
 * Loads the organization (authorizing `org:read`) and resolves a LEVEL reference in it; the
 * organization and the project come from one query. Throws ORGANIZATION_NOT_FOUND,
 * PERMISSION_DENIED, VALIDATION_FAILED for env/service without project (or both), and
 * PROJECT_NOT_FOUND, ENVIRONMENT_NOT_FOUND or SERVICE_NOT_FOUND, each with the close names the
 * caller could list in `details.suggestions`.
 */
export async function loadLevel(
  db: Kysely<Schema>,
  ctx: RequestContext,
  orgSlug: string,
  ref: LevelRef,
): Promise<{ org: OrganizationRow; at: ResolvedLevel }> {
  if (!ref.project) {
    const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
    if (ref.env || ref.service) throw invalid('project', 'is required with env or service');
    const at: ResolvedLevel = {
      level: 'organization',
      scopeId: org.id,
      project: null,
      environment: null,
      service: null,
      label: `organization ${org.slug}`,
    };
    return { org, at };
  }
  const found = await loadOrganizationWithProject(db, ctx, orgSlug, ref.project, 'org:read');
  if (ref.env && ref.service) throw invalid('service', 'give either env or service, not both');
  const asker: Asker = { ctx, org: found.org };
  const project =
    found.project ?? projectNotFound(ref.project, await suggestProjects(db, asker, ref.project));
  return { org: found.org, at: await levelIn(db, asker, project, ref) };
}

async function levelIn(
  db: Kysely<Schema>,
  asker: Asker,
  project: ProjectRow,
  ref: LevelRef,
): Promise<ResolvedLevel> {
  if (ref.env) {
    const environment = await loadEnvironment(db, project, ref.env, asker);
    return {
      level: 'environment',
      scopeId: environment.id,
      project,
      environment,
      service: null,
      label: `environment ${project.slug}/${environment.slug}`,
    };
  }
  if (ref.service) {
    const service = await loadService(db, project, ref.service, asker);
    const environment = service.environmentId
      ? ((await findEnvironmentById(db, service.environmentId)) ?? null)
      : null;
    return {
      level: 'service',
      scopeId: service.id,
      project,
      environment,
      service,
      label: `service ${project.slug}/${service.name}`,
    };
  }
  return {
    level: 'project',
    scopeId: project.id,
    project,
    environment: null,
    service: null,
    label: `project ${project.slug}`,
  };
}

/** The policy resource of a level. */
export function levelResource(
  org: OrganizationRow,
  at: ResolvedLevel,
  targetName: string | null = null,
): Resource {
  return {
    orgId: org.id,
    orgSlug: org.slug,
    targetType: 'secret',
    targetName,
    ...(at.project ? { projectId: at.project.id } : {}),
    ...(at.environment ? { environmentId: at.environment.id } : {}),
  };
}

/** A job context: the scopes whose secrets are candidates, deepest last. */
export interface ContextScopes {
  project: ProjectRow;
  environment: EnvironmentRow | null;
  service: ServiceRow | null;
  /** scope id → level, for every level of the context. */
  scopes: Map<string, Level>;
}

/**
 * Resolves a job context (project, env?, service?). A service resolves through its own
 * environment; naming a different environment is refused. Throws PROJECT_NOT_FOUND,
 * SERVICE_NOT_FOUND or ENVIRONMENT_NOT_FOUND; given the caller's `ctx`, with the close names
 * the caller could list in `details.suggestions`.
 */
export async function resolveContext(
  db: Kysely<Schema>,
  org: OrganizationRow,
  ref: { project: string; env?: string | undefined; service?: string | undefined },
  ctx?: RequestContext,
): Promise<ContextScopes> {
  const asker: Asker | undefined = ctx ? { ctx, org } : undefined;
  const project = await loadProjectRow(db, org, ref.project, ctx);
  const service = ref.service ? await loadService(db, project, ref.service, asker) : null;
  let environment = ref.env ? await loadEnvironment(db, project, ref.env, asker) : null;
  if (service?.environmentId) {
    if (environment && environment.id !== service.environmentId) {
      throw invalid('env', `service ${service.name} belongs to another environment`);
    }
    environment ??= (await findEnvironmentById(db, service.environmentId)) ?? null;
  }
  const scopes = new Map<string, Level>([
    [org.id, 'organization'],
    [project.id, 'project'],
  ]);
  if (environment) scopes.set(environment.id, 'environment');
  if (service) scopes.set(service.id, 'service');
  return { project, environment, service, scopes };
}
