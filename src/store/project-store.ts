import type { Kysely } from 'kysely';

import { preparedQuery } from './prepared.js';
import type { EnvironmentRow, ProjectRow, Schema, ServiceRow } from './schema.js';

/** Inserts a project; a taken slug in the organization raises a unique violation. */
export async function insertProject(db: Kysely<Schema>, row: ProjectRow): Promise<void> {
  await db.insertInto('projects').values(row).execute();
}

// Most project-level requests look their project up: compiled once.
const projectBySlug = preparedQuery(
  { orgId: null, slug: null },
  (db, p: { orgId: string; slug: string }) =>
    db.selectFrom('projects').selectAll().where('orgId', '=', p.orgId).where('slug', '=', p.slug),
);

/** A project by organization and slug. */
export async function findProject(
  db: Kysely<Schema>,
  orgId: string,
  slug: string,
): Promise<ProjectRow | undefined> {
  return (await projectBySlug(db, { orgId, slug })).rows[0];
}

/** Projects of an organization, by slug. */
export function listProjects(db: Kysely<Schema>, orgId: string): Promise<ProjectRow[]> {
  return db.selectFrom('projects').selectAll().where('orgId', '=', orgId).orderBy('slug').execute();
}

/** Deletes a project with its environments and services. */
export async function deleteProject(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('projects').where('id', '=', id).execute();
}

/** Inserts an environment; a taken slug in the project raises a unique violation. */
export async function insertEnvironment(db: Kysely<Schema>, row: EnvironmentRow): Promise<void> {
  await db.insertInto('environments').values(row).execute();
}

/** An environment by project and slug. */
export function findEnvironment(
  db: Kysely<Schema>,
  projectId: string,
  slug: string,
): Promise<EnvironmentRow | undefined> {
  return db
    .selectFrom('environments')
    .selectAll()
    .where('projectId', '=', projectId)
    .where('slug', '=', slug)
    .executeTakeFirst();
}

/** An environment by id. */
export function findEnvironmentById(
  db: Kysely<Schema>,
  id: string,
): Promise<EnvironmentRow | undefined> {
  return db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A service by id. */
export function findServiceById(db: Kysely<Schema>, id: string): Promise<ServiceRow | undefined> {
  return db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Environments of a project, by slug. */
export function listEnvironments(db: Kysely<Schema>, projectId: string): Promise<EnvironmentRow[]> {
  return db
    .selectFrom('environments')
    .selectAll()
    .where('projectId', '=', projectId)
    .orderBy('slug')
    .execute();
}

/** Deletes an environment and the services attached to it. */
export async function deleteEnvironment(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('environments').where('id', '=', id).execute();
}

/** Inserts a service; a taken name in the project raises a unique violation. */
export async function insertService(db: Kysely<Schema>, row: ServiceRow): Promise<void> {
  await db.insertInto('services').values(row).execute();
}

/** A service by project and name. */
export function findService(
  db: Kysely<Schema>,
  projectId: string,
  name: string,
): Promise<ServiceRow | undefined> {
  return db
    .selectFrom('services')
    .selectAll()
    .where('projectId', '=', projectId)
    .where('name', '=', name)
    .executeTakeFirst();
}

/** Services of a project, by name. */
export function listServices(db: Kysely<Schema>, projectId: string): Promise<ServiceRow[]> {
  return db
    .selectFrom('services')
    .selectAll()
    .where('projectId', '=', projectId)
    .orderBy('name')
    .execute();
}

/** Deletes a service. */
export async function deleteService(db: Kysely<Schema>, id: string): Promise<void> {
  await db.deleteFrom('services').where('id', '=', id).execute();
}

/** The ids and slugs of an organization's projects, by slug, at most `limit` (for suggestions). */
export function listProjectSlugs(
  db: Kysely<Schema>,
  orgId: string,
  limit: number,
): Promise<Pick<ProjectRow, 'id' | 'slug'>[]> {
  return db
    .selectFrom('projects')
    .select(['id', 'slug'])
    .where('orgId', '=', orgId)
    .orderBy('slug')
    .limit(limit)
    .execute();
}

/** The ids, slugs and types of a project's environments, by slug, at most `limit`. */
export function listEnvironmentSlugs(
  db: Kysely<Schema>,
  projectId: string,
  limit: number,
): Promise<Pick<EnvironmentRow, 'id' | 'slug' | 'type'>[]> {
  return db
    .selectFrom('environments')
    .select(['id', 'slug', 'type'])
    .where('projectId', '=', projectId)
    .orderBy('slug')
    .limit(limit)
    .execute();
}

/**
 * The names of a project's services with their environment (id and type, null for a
 * project-wide service), by name, at most `limit`: one query.
 */
export function listServiceNames(db: Kysely<Schema>, projectId: string, limit: number) {
  return db
    .selectFrom('services')
    .leftJoin('environments', 'environments.id', 'services.environmentId')
    .select(['services.name', 'services.environmentId', 'environments.type as environmentType'])
    .where('services.projectId', '=', projectId)
    .orderBy('services.name')
    .limit(limit)
    .execute();
}

/** Renames a project (its display name; the slug never changes). */
export async function updateProjectName(
  db: Kysely<Schema>,
  id: string,
  name: string,
): Promise<void> {
  await db.updateTable('projects').set({ name }).where('id', '=', id).execute();
}

/** Changes what a service runs, where and for how long, and its environment. */
export async function updateService(
  db: Kysely<Schema>,
  id: string,
  fields: Pick<ServiceRow, 'environmentId' | 'command' | 'workingDir' | 'timeoutSeconds'>,
): Promise<void> {
  await db.updateTable('services').set(fields).where('id', '=', id).execute();
}

/** Every environment of an organization's projects, in one query. */
export function listEnvironmentsOfOrganization(
  db: Kysely<Schema>,
  orgId: string,
): Promise<EnvironmentRow[]> {
  return db
    .selectFrom('environments')
    .innerJoin('projects', 'projects.id', 'environments.projectId')
    .selectAll('environments')
    .where('projects.orgId', '=', orgId)
    .orderBy('environments.slug')
    .execute();
}

/** Every service of an organization's projects, in one query. */
export function listServicesOfOrganization(
  db: Kysely<Schema>,
  orgId: string,
): Promise<ServiceRow[]> {
  return db
    .selectFrom('services')
    .innerJoin('projects', 'projects.id', 'services.projectId')
    .selectAll('services')
    .where('projects.orgId', '=', orgId)
    .orderBy('services.name')
    .execute();
}
