import { createHash } from 'node:crypto';

import type { Kysely } from 'kysely';
import { stringify } from 'yaml';

import { listMembers } from '../../store/org-store.js';
import {
  listEnvironmentsOfOrganization,
  listProjects,
  listServicesOfOrganization,
} from '../../store/project-store.js';
import { listCustomRoles } from '../../store/role-store.js';
import type {
  CustomRoleRow,
  EnvironmentRow,
  OrganizationRow,
  ProjectRow,
  Schema,
  ServiceRow,
} from '../../store/schema.js';
import { listSecretDeclarations } from '../../store/secret-store.js';
import type { Grant } from '../policy/custom-roles.js';
import type { ConfigFile, SecretDeclaration } from './config-schema.js';

/** A project as it is now, with its environments and services by slug and name. */
export interface ProjectState {
  row: ProjectRow;
  environments: Map<string, EnvironmentRow>;
  services: Map<string, ServiceRow>;
}

/** What of an organization a hush.yaml describes, as it is now, read in one go. */
export interface OrganizationState {
  org: OrganizationRow;
  projects: Map<string, ProjectState>;
  roles: Map<string, CustomRoleRow>;
  members: Map<string, { userId: string; email: string; role: string }>;
  secrets: SecretDeclaration[];
}

/** Reads the organization's projects, environments, services, roles, members and secret names. */
export async function readOrganizationState(
  db: Kysely<Schema>,
  org: OrganizationRow,
): Promise<OrganizationState> {
  const [projectRows, envRows, serviceRows, roleRows, memberRows, secretRows] = await Promise.all([
    listProjects(db, org.id),
    listEnvironmentsOfOrganization(db, org.id),
    listServicesOfOrganization(db, org.id),
    listCustomRoles(db, org.id),
    listMembers(db, org.id),
    listSecretDeclarations(db, org.id),
  ]);
  const byId = new Map<string, ProjectState>();
  const projects = new Map<string, ProjectState>();
  for (const row of projectRows) {
    const p = { row, environments: new Map(), services: new Map() };
    byId.set(row.id, p);
    projects.set(row.slug, p);
  }
  for (const env of envRows) byId.get(env.projectId)?.environments.set(env.slug, env);
  for (const service of serviceRows)
    byId.get(service.projectId)?.services.set(service.name, service);
  const envSlug = new Map(envRows.map((e) => [e.id, e.slug]));
  const serviceName = new Map(serviceRows.map((s) => [s.id, s.name]));
  const secrets = secretRows.map((s) => {
    const decl: SecretDeclaration = {
      name: s.name,
      kind: s.kind,
      sensitivity: s.sensitivity,
    };
    if (s.projectId) decl.project = byId.get(s.projectId)?.row.slug ?? s.projectId;
    if (s.environmentId) decl.environment = envSlug.get(s.environmentId) ?? s.environmentId;
    if (s.serviceId) decl.service = serviceName.get(s.serviceId) ?? s.serviceId;
    if (s.assignee) decl.assignee = s.assignee;
    return decl;
  });
  return {
    org,
    projects,
    roles: new Map(roleRows.map((r) => [r.name, r])),
    members: new Map(memberRows.map((m) => [m.email, m])),
    secrets,
  };
}

/** A custom role's grants by project slug, in a stable order (grants of gone projects dropped). */
export function namedGrants(state: OrganizationState, role: CustomRoleRow) {
  const slugs = new Map([...state.projects.values()].map((p) => [p.row.id, p.row.slug]));
  return (JSON.parse(role.grants) as Grant[])
    .filter((g) => slugs.has(g.projectId))
    .map((g) => ({ project: slugs.get(g.projectId)!, type: g.type, level: g.level }))
    .sort((a, b) => grantKey(a).localeCompare(grantKey(b)));
}

/** How a grant sorts and compares: `project:type`. */
export function grantKey(g: { project: string; type: string }): string {
  return `${g.project}:${g.type}`;
}

/** The state as a hush.yaml document (what `hush config export` writes), defaults filled in. */
export function stateAsConfig(state: OrganizationState, withSecrets = true): ConfigFile {
  const envSlugs = (p: ProjectState) =>
    new Map([...p.environments.values()].map((e) => [e.id, e.slug]));
  const projects: ConfigFile['projects'] = {};
  for (const [slug, p] of state.projects) {
    const ids = envSlugs(p);
    projects[slug] = {
      ...(p.row.name !== p.row.slug ? { name: p.row.name } : {}),
      environments: Object.fromEntries(
        [...p.environments].map(([s, e]) => [s, { type: e.type as 'production' }]),
      ),
      services: Object.fromEntries(
        [...p.services].map(([name, s]) => [
          name,
          {
            command: s.command,
            ...(s.environmentId
              ? { environment: ids.get(s.environmentId) ?? s.environmentId }
              : {}),
            ...(s.workingDir !== null ? { workingDir: s.workingDir } : {}),
            timeout: s.timeoutSeconds,
          },
        ]),
      ),
    };
  }
  const roles: ConfigFile['roles'] = {};
  for (const [name, row] of state.roles) {
    roles[name] = { grants: namedGrants(state, row) };
  }
  return {
    organization: state.org.slug,
    projects,
    roles,
    members: Object.fromEntries([...state.members].map(([email, m]) => [email, m.role])),
    secrets: withSecrets ? state.secrets : [],
  };
}

/**
 * A digest of what `apply` may change (everything but the secrets it only checks): a plan
 * carries it, and apply refuses when the organization no longer matches it.
 */
export function stateDigest(state: OrganizationState): string {
  const doc = stateAsConfig(state, false);
  return `sha256:${createHash('sha256').update(JSON.stringify(doc)).digest('hex')}`;
}

/** A number of seconds as the shortest duration that says it exactly (`3600` → `1h`). */
function duration(seconds: number): string | number {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return seconds;
}

/** The state as hush.yaml text, with the schema comment editors read and defaults left out. */
export function stateAsYaml(state: OrganizationState, schemaUrl: string): string {
  const doc = stateAsConfig(state);
  const projects = Object.fromEntries(
    Object.entries(doc.projects).map(([slug, p]) => [
      slug,
      {
        ...(p.name ? { name: p.name } : {}),
        ...(Object.keys(p.environments).length > 0 ? { environments: p.environments } : {}),
        ...(Object.keys(p.services).length > 0
          ? {
              services: Object.fromEntries(
                Object.entries(p.services).map(([name, s]) => [
                  name,
                  {
                    ...s,
                    ...(s.timeout === 3600
                      ? { timeout: undefined }
                      : { timeout: duration(s.timeout) }),
                  },
                ]),
              ),
            }
          : {}),
      },
    ]),
  );
  const body = {
    organization: doc.organization,
    ...(Object.keys(projects).length > 0 ? { projects } : {}),
    ...(Object.keys(doc.roles).length > 0 ? { roles: doc.roles } : {}),
    ...(Object.keys(doc.members).length > 0 ? { members: doc.members } : {}),
    ...(doc.secrets.length > 0
      ? {
          secrets: doc.secrets.map((s) => ({
            ...s,
            kind: s.kind === 'env' ? undefined : s.kind,
            sensitivity: s.sensitivity === 'secret' ? undefined : s.sensitivity,
          })),
        }
      : {}),
  };
  return `# yaml-language-server: $schema=${schemaUrl}\n${stringify(body, { lineWidth: 0 })}`;
}
