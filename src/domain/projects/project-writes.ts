import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { translateDbErrors } from '../../store/db-errors.js';
import {
  deleteEnvironment,
  deleteProject,
  deleteService,
  insertEnvironment,
  insertProject,
  insertService,
  updateProjectName,
  updateService,
} from '../../store/project-store.js';
import type {
  EnvironmentRow,
  OrganizationRow,
  ProjectRow,
  Schema,
  ServiceRow,
} from '../../store/schema.js';
import type { AuditService } from '../audit/audit-service.js';
import { now, type RequestContext } from '../context.js';
import type { EnvironmentType } from '../validation.js';

// The writes of projects, environments and services with their audit events, once: the
// single-resource service calls and `hush apply` both go through them, inside the caller's
// transaction and after the caller has authorized them.

/** Where a write records itself: the audit service, and the context it acts in. */
export interface Recorder {
  audit: Pick<AuditService, 'append'>;
  ctx: RequestContext;
}

export function toProject(row: ProjectRow, org: OrganizationRow) {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    organization: org.slug,
    createdAt: row.createdAt,
  };
}

export function toEnvironment(row: EnvironmentRow, project: ProjectRow) {
  return {
    id: row.id,
    slug: row.slug,
    type: row.type,
    project: project.slug,
    createdAt: row.createdAt,
  };
}

export function toService(row: ServiceRow, project: ProjectRow, envSlug: string | null) {
  return {
    id: row.id,
    name: row.name,
    project: project.slug,
    environment: envSlug,
    command: row.command,
    workingDir: row.workingDir,
    timeoutSeconds: row.timeoutSeconds,
    createdAt: row.createdAt,
  };
}

/** Inserts a project and records CREATE; a taken slug is a CONFLICT naming `slug`. */
export async function writeProject(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  input: { slug: string; name?: string | undefined },
): Promise<ProjectRow> {
  const row: ProjectRow = {
    id: randomUUID(),
    orgId: org.id,
    slug: input.slug,
    name: input.name ?? input.slug,
    createdAt: now(),
  };
  await translateDbErrors(() => insertProject(trx, row), {
    message: `project "${input.slug}" already exists in ${org.slug}`,
    details: { field: 'slug' },
  });
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'CREATE',
    targetType: 'project',
    targetId: row.id,
    targetName: row.slug,
    change: `created project ${row.slug}`,
    details: { project: toProject(row, org) },
  });
  return row;
}

/** Changes a project's display name and records UPDATE. */
export async function renameProject(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  project: ProjectRow,
  name: string,
): Promise<void> {
  await updateProjectName(trx, project.id, name);
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'UPDATE',
    targetType: 'project',
    targetId: project.id,
    targetName: project.slug,
    change: `renamed project ${project.slug} from "${project.name}" to "${name}"`,
    details: { from: { name: project.name }, to: { name } },
  });
}

/** Deletes a project with its environments and services, and records DELETE. */
export async function dropProject(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  project: ProjectRow,
): Promise<void> {
  await deleteProject(trx, project.id);
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'DELETE',
    targetType: 'project',
    targetId: project.id,
    targetName: project.slug,
    change: `deleted project ${project.slug}`,
  });
}

/** Inserts an environment and records CREATE; a taken slug is a CONFLICT naming `slug`. */
export async function writeEnvironment(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  project: ProjectRow,
  input: { slug: string; type: EnvironmentType },
): Promise<EnvironmentRow> {
  const row: EnvironmentRow = {
    id: randomUUID(),
    projectId: project.id,
    slug: input.slug,
    type: input.type,
    createdAt: now(),
  };
  await translateDbErrors(() => insertEnvironment(trx, row), {
    message: `environment "${input.slug}" already exists in ${project.slug}`,
    details: { field: 'slug' },
  });
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'CREATE',
    targetType: 'environment',
    targetId: row.id,
    targetName: `${project.slug}/${row.slug}`,
    change: `created ${row.type} environment ${row.slug} in ${project.slug}`,
    details: { environment: toEnvironment(row, project) },
  });
  return row;
}

/** Deletes an environment (and its services) and records DELETE. */
export async function dropEnvironment(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  project: ProjectRow,
  env: EnvironmentRow,
): Promise<void> {
  await deleteEnvironment(trx, env.id);
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'DELETE',
    targetType: 'environment',
    targetId: env.id,
    targetName: `${project.slug}/${env.slug}`,
    change: `deleted environment ${env.slug} of ${project.slug}`,
  });
}

/** What a service is, apart from its name and project, as the store keeps it. */
export type ServiceFields = Pick<
  ServiceRow,
  'environmentId' | 'command' | 'workingDir' | 'timeoutSeconds'
>;

/** Inserts a service and records CREATE; a taken name is a CONFLICT naming `name`. */
export async function writeService(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  project: ProjectRow,
  input: ServiceFields & { name: string; envSlug: string | null },
): Promise<ServiceRow> {
  const row: ServiceRow = {
    id: randomUUID(),
    projectId: project.id,
    environmentId: input.environmentId,
    name: input.name,
    command: input.command,
    workingDir: input.workingDir,
    timeoutSeconds: input.timeoutSeconds,
    createdAt: now(),
  };
  await translateDbErrors(() => insertService(trx, row), {
    message: `service "${input.name}" already exists in ${project.slug}`,
    details: { field: 'name' },
  });
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'CREATE',
    targetType: 'service',
    targetId: row.id,
    targetName: `${project.slug}/${row.name}`,
    change: `created service ${row.name} in ${project.slug}`,
    details: { service: toService(row, project, input.envSlug) },
  });
  return row;
}

/** Changes a service's command, working directory, timeout or environment; records UPDATE. */
export async function changeService(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  project: ProjectRow,
  service: ServiceRow,
  fields: ServiceFields,
): Promise<void> {
  const changed = (Object.keys(fields) as (keyof ServiceFields)[]).filter(
    (k) => fields[k] !== service[k],
  );
  await updateService(trx, service.id, fields);
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'UPDATE',
    targetType: 'service',
    targetId: service.id,
    targetName: `${project.slug}/${service.name}`,
    change: `changed ${changed.join(', ')} of service ${service.name} in ${project.slug}`,
    details: {
      from: Object.fromEntries(changed.map((k) => [k, service[k]])),
      to: Object.fromEntries(changed.map((k) => [k, fields[k]])),
    },
  });
}

/** Deletes a service and records DELETE. */
export async function dropService(
  trx: Kysely<Schema>,
  { audit, ctx }: Recorder,
  org: OrganizationRow,
  project: ProjectRow,
  service: ServiceRow,
): Promise<void> {
  await deleteService(trx, service.id);
  await audit.append(trx, ctx, {
    orgId: org.id,
    eventType: 'DELETE',
    targetType: 'service',
    targetId: service.id,
    targetName: `${project.slug}/${service.name}`,
    change: `deleted service ${service.name} of ${project.slug}`,
  });
}
