import type { Kysely } from 'kysely';

import { hushError, invalid } from '../../errors.js';
import {
  findEnvironment,
  findProject,
  findService,
  listEnvironments,
  listProjects,
  listServices,
} from '../../store/project-store.js';
import type {
  EnvironmentRow,
  OrganizationRow,
  ProjectRow,
  Schema,
  ServiceRow,
} from '../../store/schema.js';
import type { AuditService } from '../audit/audit-service.js';
import type { RequestContext } from '../context.js';
import { checkWorkingDir } from '../jobs/working-dir.js';
import { loadOrganization, loadOrganizationWithProject } from '../orgs/org-service.js';
import { authorize } from '../policy/authorize.js';
import type { Action } from '../policy/roles.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { EnvironmentType } from '../validation.js';
import {
  type Asker,
  projectVisibility,
  suggestEnvironments,
  suggestProjects,
  suggestServices,
} from './project-suggest.js';
import {
  dropEnvironment,
  dropProject,
  dropService,
  toEnvironment,
  toProject,
  toService,
  writeEnvironment,
  writeProject,
  writeService,
} from './project-writes.js';

export interface ServiceInput {
  name: string;
  environment?: string | undefined;
  command: string;
  workingDir?: string | undefined;
  timeoutSeconds: number;
}

/**
 * Loads org + project and authorizes `action` on the project. Throws PROJECT_NOT_FOUND with
 * `details.suggestions` (see {@link suggestProjects}).
 */
export async function loadProject(
  db: Kysely<Schema>,
  ctx: RequestContext,
  orgSlug: string,
  projectSlug: string,
  action: Action,
): Promise<{ org: OrganizationRow; project: ProjectRow }> {
  const found = await loadOrganizationWithProject(db, ctx, orgSlug, projectSlug, 'org:read');
  const { org } = found;
  const project =
    found.project ??
    projectNotFound(projectSlug, await suggestProjects(db, { ctx, org }, projectSlug));
  await authorize(db, ctx, action, {
    orgId: org.id,
    orgSlug: org.slug,
    targetType: 'project',
    targetId: project.id,
    targetName: project.slug,
    projectId: project.id,
  });
  return { org, project };
}

/**
 * A project of an organization by slug, without authorization. Throws PROJECT_NOT_FOUND; with
 * the caller's `ctx`, its `details.suggestions` name the close projects the caller could list.
 */
export async function loadProjectRow(
  db: Kysely<Schema>,
  org: OrganizationRow,
  slug: string,
  ctx?: RequestContext,
): Promise<ProjectRow> {
  return (
    (await findProject(db, org.id, slug)) ??
    projectNotFound(slug, ctx ? await suggestProjects(db, { ctx, org }, slug) : [])
  );
}

/** Throws PROJECT_NOT_FOUND for a project slug, with the suggestions in `details.suggestions`. */
export function projectNotFound(slug: string, suggestions: readonly string[] = []): never {
  throw hushError('PROJECT_NOT_FOUND', `project "${slug}" not found`, {
    suggestions: [...suggestions],
  });
}

/**
 * A service of a loaded project. Throws SERVICE_NOT_FOUND; with the `asker`, its
 * `details.suggestions` name the close services the asker could list.
 */
export async function loadService(
  db: Kysely<Schema>,
  project: ProjectRow,
  name: string,
  asker?: Asker,
): Promise<ServiceRow> {
  const service = await findService(db, project.id, name);
  if (!service) {
    throw hushError('SERVICE_NOT_FOUND', `service "${name}" not found in ${project.slug}`, {
      suggestions: asker ? await suggestServices(db, asker, project, name) : [],
    });
  }
  return service;
}

/** Authorizes an action on a project, narrowed to one environment when there is one. */
async function authorizeIn(
  db: Kysely<Schema>,
  ctx: RequestContext,
  action: Action,
  org: OrganizationRow,
  project: ProjectRow,
  environmentId: string | null,
): Promise<void> {
  await authorize(db, ctx, action, {
    orgId: org.id,
    orgSlug: org.slug,
    targetType: 'project',
    targetId: project.id,
    targetName: project.slug,
    projectId: project.id,
    ...(environmentId ? { environmentId } : {}),
  });
}

/**
 * Loads an environment of a loaded project. Throws ENVIRONMENT_NOT_FOUND; with the `asker`, its
 * `details.suggestions` name the close environments the asker could list.
 */
export async function loadEnvironment(
  db: Kysely<Schema>,
  project: ProjectRow,
  slug: string,
  asker?: Asker,
): Promise<EnvironmentRow> {
  const env = await findEnvironment(db, project.id, slug);
  if (!env) {
    throw hushError('ENVIRONMENT_NOT_FOUND', `environment "${slug}" not found in ${project.slug}`, {
      suggestions: asker ? await suggestEnvironments(db, asker, project, slug) : [],
    });
  }
  return env;
}

/** A service's working directory as stored: inside the job's directory or under a mount. */
export function checkedWorkingDir(workingDir: string | undefined, mounts: readonly string[]) {
  const checked = checkWorkingDir(workingDir, mounts);
  if ('error' in checked) throw invalid('workingDir', checked.error);
  return workingDir ?? null;
}

/** Projects, their typed environments and their services (job definitions). */
export function createProjectService(deps: {
  uow: UnitOfWork;
  audit: AuditService;
  /** The read-only mounts of job sandboxes (`HUSH_JOB_MOUNTS`). */
  jobMounts?: readonly string[];
}) {
  const { uow, audit } = deps;

  function createProject(
    ctx: RequestContext,
    orgSlug: string,
    input: { slug: string; name?: string | undefined },
  ) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
      await authorize(trx, ctx, 'project:create', {
        orgId: org.id,
        orgSlug: org.slug,
        targetType: 'project',
        targetName: input.slug,
      });
      return toProject(await writeProject(trx, { audit, ctx }, org, input), org);
    });
  }

  function listProjectsOf(ctx: RequestContext, orgSlug: string) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
      await authorize(db, ctx, 'project:read', {
        orgId: org.id,
        orgSlug: org.slug,
        targetType: 'project',
        listing: true,
      });
      const visible = await projectVisibility(db, ctx, org.id);
      const rows = await listProjects(db, org.id);
      return rows.filter((r) => visible(r.id)).map((r) => toProject(r, org));
    });
  }

  function getProject(ctx: RequestContext, orgSlug: string, slug: string) {
    return uow.read(ctx, async (db) => {
      const { org, project } = await loadProject(db, ctx, orgSlug, slug, 'project:read');
      return toProject(project, org);
    });
  }

  function removeProject(ctx: RequestContext, orgSlug: string, slug: string) {
    return uow.write(ctx, async (trx) => {
      const { org, project } = await loadProject(trx, ctx, orgSlug, slug, 'project:edit');
      await dropProject(trx, { audit, ctx }, org, project);
    });
  }

  function createEnvironment(
    ctx: RequestContext,
    orgSlug: string,
    projectSlug: string,
    input: { slug: string; type: EnvironmentType },
  ) {
    return uow.write(ctx, async (trx) => {
      // Authorized on the type being created: manage on staging may create a staging environment.
      const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
      const project = await loadProjectRow(trx, org, projectSlug, ctx);
      await authorize(trx, ctx, 'environment:create', {
        orgId: org.id,
        orgSlug: org.slug,
        targetType: 'environment',
        targetName: `${project.slug}/${input.slug}`,
        projectId: project.id,
        environmentType: input.type,
      });
      const row = await writeEnvironment(trx, { audit, ctx }, org, project, input);
      return toEnvironment(row, project);
    });
  }

  function listEnvironmentsOf(ctx: RequestContext, orgSlug: string, projectSlug: string) {
    return uow.read(ctx, async (db) => {
      const { project } = await loadProject(db, ctx, orgSlug, projectSlug, 'environment:read');
      return (await listEnvironments(db, project.id)).map((e) => toEnvironment(e, project));
    });
  }

  function removeEnvironment(
    ctx: RequestContext,
    orgSlug: string,
    projectSlug: string,
    slug: string,
  ) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
      const project = await loadProjectRow(trx, org, projectSlug, ctx);
      const env = await loadEnvironment(trx, project, slug, { ctx, org });
      await authorizeIn(trx, ctx, 'environment:edit', org, project, env.id);
      await dropEnvironment(trx, { audit, ctx }, org, project, env);
    });
  }

  function createService(
    ctx: RequestContext,
    orgSlug: string,
    projectSlug: string,
    input: ServiceInput,
  ) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
      const project = await loadProjectRow(trx, org, projectSlug, ctx);
      const env = input.environment
        ? await loadEnvironment(trx, project, input.environment, { ctx, org })
        : null;
      await authorizeIn(trx, ctx, 'environment:create', org, project, env?.id ?? null);
      const row = await writeService(trx, { audit, ctx }, org, project, {
        name: input.name,
        envSlug: env?.slug ?? null,
        environmentId: env?.id ?? null,
        command: input.command,
        workingDir: checkedWorkingDir(input.workingDir, deps.jobMounts ?? []),
        timeoutSeconds: input.timeoutSeconds,
      });
      return toService(row, project, env?.slug ?? null);
    });
  }

  function listServicesOf(ctx: RequestContext, orgSlug: string, projectSlug: string) {
    return uow.read(ctx, async (db) => {
      const { project } = await loadProject(db, ctx, orgSlug, projectSlug, 'environment:read');
      const envs = new Map((await listEnvironments(db, project.id)).map((e) => [e.id, e.slug]));
      return (await listServices(db, project.id)).map((s) =>
        toService(s, project, s.environmentId ? (envs.get(s.environmentId) ?? null) : null),
      );
    });
  }

  function removeService(ctx: RequestContext, orgSlug: string, projectSlug: string, name: string) {
    return uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'org:read');
      const project = await loadProjectRow(trx, org, projectSlug, ctx);
      const service = await loadService(trx, project, name, { ctx, org });
      await authorizeIn(trx, ctx, 'environment:edit', org, project, service.environmentId);
      await dropService(trx, { audit, ctx }, org, project, service);
    });
  }

  return {
    createProject,
    listProjects: listProjectsOf,
    getProject,
    removeProject,
    createEnvironment,
    listEnvironments: listEnvironmentsOf,
    removeEnvironment,
    createService,
    listServices: listServicesOf,
    removeService,
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;
