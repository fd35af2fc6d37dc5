import { checkWorkingDir } from '../jobs/working-dir.js';
import { isBuiltinRole } from '../policy/roles.js';
import { configError, type ConfigProblem, type ParsedConfig } from './config-parse.js';
import type { ConfigFile, SecretDeclaration } from './config-schema.js';
import { grantKey, namedGrants, type OrganizationState } from './config-state.js';

/** The kinds of resource a hush.yaml manages, in the order a plan creates them. */
export const RESOURCES = ['project', 'environment', 'service', 'role', 'member'] as const;
export type Resource = (typeof RESOURCES)[number];

/** One field a change sets: what it is now and what the file says. */
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** One change of a plan: `name` is `maps`, `maps/prod`, `maps/render`, a role or an e-mail. */
export interface PlannedChange {
  action: 'create' | 'update' | 'delete';
  resource: Resource;
  name: string;
  /** The project of an environment or service. */
  project?: string;
  fields: FieldChange[];
}

/** A declared secret that does not exist as declared. */
export interface SecretFinding {
  secret: SecretDeclaration;
  /** `missing`, or what differs (`kind is file, declared env`). */
  problem: string;
}

export interface Plan {
  changes: PlannedChange[];
  secrets: SecretFinding[];
  summary: { create: number; update: number; delete: number; secretsMissing: number };
}

type Desired = ConfigFile;
type Service = Desired['projects'][string]['services'][string];

function serviceFields(s: Service) {
  return {
    environment: s.environment ?? null,
    command: s.command,
    workingDir: s.workingDir ?? null,
    timeoutSeconds: s.timeout,
  };
}

/**
 * What applying `parsed` to `state` changes: creates and updates in dependency order (projects,
 * environments, services, roles, members), then — with `prune` — deletes of what the file
 * leaves out, in reverse. Members are never removed and ownership never moves. Throws
 * VALIDATION_FAILED naming the line of every reference to something that would not exist.
 */
export function computePlan(
  parsed: ParsedConfig,
  state: OrganizationState,
  opts: { prune: boolean; jobMounts: readonly string[] },
): Plan {
  const want = parsed.config;
  const problems: ConfigProblem[] = [];
  const problem = (path: (string | number)[], message: string) =>
    problems.push({ field: path.join('.'), line: parsed.lineOf(path), message });
  if (want.organization !== state.org.slug) {
    problem(
      ['organization'],
      `is "${want.organization}", but this is organization ${state.org.slug}`,
    );
  }
  const creates: PlannedChange[] = [];
  const deletes: PlannedChange[] = [];
  // What exists once the plan is applied: the file's, plus what it leaves alone without --prune.
  const projectWillExist = (slug: string) =>
    Object.hasOwn(want.projects, slug) || (!opts.prune && state.projects.has(slug));

  for (const [slug, p] of Object.entries(want.projects)) {
    const have = state.projects.get(slug);
    const name = p.name ?? slug;
    if (!have) {
      creates.push({
        action: 'create',
        resource: 'project',
        name: slug,
        fields: [{ field: 'name', from: null, to: name }],
      });
    } else if (have.row.name !== name) {
      creates.push({
        action: 'update',
        resource: 'project',
        name: slug,
        fields: [{ field: 'name', from: have.row.name, to: name }],
      });
    }
  }
  for (const [slug, p] of Object.entries(want.projects)) {
    const have = state.projects.get(slug);
    for (const [envSlug, env] of Object.entries(p.environments)) {
      const old = have?.environments.get(envSlug);
      if (!old) {
        creates.push({
          action: 'create',
          resource: 'environment',
          project: slug,
          name: `${slug}/${envSlug}`,
          fields: [{ field: 'type', from: null, to: env.type }],
        });
      } else if (old.type !== env.type) {
        problem(
          ['projects', slug, 'environments', envSlug, 'type'],
          `an environment's type never changes (it decides whose grants reach its secrets): ${envSlug} is ${old.type}; remove it and add a new one`,
        );
      }
    }
  }
  for (const [slug, p] of Object.entries(want.projects)) {
    const have = state.projects.get(slug);
    const envIds = new Map([...(have?.environments.values() ?? [])].map((e) => [e.id, e.slug]));
    for (const [name, s] of Object.entries(p.services)) {
      const path = ['projects', slug, 'services', name];
      if (
        s.environment &&
        !Object.hasOwn(p.environments, s.environment) &&
        !(!opts.prune && have?.environments.has(s.environment))
      ) {
        problem(
          [...path, 'environment'],
          `environment "${s.environment}" is not an environment of ${slug}`,
        );
      }
      const dir = checkWorkingDir(s.workingDir, opts.jobMounts);
      if ('error' in dir) problem([...path, 'workingDir'], dir.error);
      const to = serviceFields(s);
      const old = have?.services.get(name);
      if (!old) {
        creates.push({
          action: 'create',
          resource: 'service',
          project: slug,
          name: `${slug}/${name}`,
          fields: Object.entries(to).map(([field, v]) => ({ field, from: null, to: v })),
        });
        continue;
      }
      const from = {
        environment: old.environmentId ? (envIds.get(old.environmentId) ?? null) : null,
        command: old.command,
        workingDir: old.workingDir,
        timeoutSeconds: old.timeoutSeconds,
      };
      const fields = (Object.keys(to) as (keyof typeof to)[])
        .filter((k) => from[k] !== to[k])
        .map((k) => ({ field: k, from: from[k], to: to[k] }));
      if (fields.length > 0) {
        creates.push({
          action: 'update',
          resource: 'service',
          project: slug,
          name: `${slug}/${name}`,
          fields,
        });
      }
    }
  }
  const roleWillExist = (name: string) =>
    Object.hasOwn(want.roles, name) || (!opts.prune && state.roles.has(name));
  for (const [name, role] of Object.entries(want.roles)) {
    const path = ['roles', name];
    if (isBuiltinRole(name)) problem(path, `"${name}" is the name of a built-in role`);
    const seen = new Set<string>();
    role.grants.forEach((g, i) => {
      if (!projectWillExist(g.project)) {
        problem(
          [...path, 'grants', i, 'project'],
          `project "${g.project}" is not a project of ${state.org.slug}`,
        );
      }
      if (seen.has(grantKey(g))) problem([...path, 'grants', i], `${grantKey(g)} is granted twice`);
      seen.add(grantKey(g));
    });
    const to = [...role.grants].sort((a, b) => grantKey(a).localeCompare(grantKey(b)));
    const old = state.roles.get(name);
    if (!old) {
      creates.push({
        action: 'create',
        resource: 'role',
        name,
        fields: [{ field: 'grants', from: null, to }],
      });
      continue;
    }
    const from = namedGrants(state, old);
    if (JSON.stringify(from) !== JSON.stringify(to)) {
      creates.push({
        action: 'update',
        resource: 'role',
        name,
        fields: [{ field: 'grants', from, to }],
      });
    }
  }
  for (const [email, role] of Object.entries(want.members)) {
    const path = ['members', email];
    // E-mails are kept in lower case: `Bob@Example.com` names bob@example.com.
    const member = state.members.get(email.toLowerCase());
    if (!member) {
      problem(
        path,
        `${email} is not a member of ${state.org.slug}; invite them with hush member invite`,
      );
      continue;
    }
    if (member.role === role) continue;
    if (member.role === 'owner' || role === 'owner') {
      problem(path, 'ownership moves only with hush member transfer-ownership');
    } else if (!isBuiltinRole(role) && !roleWillExist(role)) {
      problem(
        path,
        `unknown role "${role}"; use admin, devops, billing-manager, viewer or a custom role`,
      );
    } else {
      creates.push({
        action: 'update',
        resource: 'member',
        name: member.email,
        fields: [{ field: 'role', from: member.role, to: role }],
      });
    }
  }

  if (opts.prune) {
    for (const [slug, p] of state.projects) {
      const kept = Object.hasOwn(want.projects, slug) ? want.projects[slug] : undefined;
      if (!kept) {
        deletes.push({
          action: 'delete',
          resource: 'project',
          name: slug,
          fields: [
            { field: 'environments', from: p.environments.size, to: null },
            { field: 'services', from: p.services.size, to: null },
          ],
        });
        continue;
      }
      for (const name of p.services.keys()) {
        if (!Object.hasOwn(kept.services, name)) {
          deletes.push({
            action: 'delete',
            resource: 'service',
            project: slug,
            name: `${slug}/${name}`,
            fields: [],
          });
        }
      }
      for (const [envSlug, env] of p.environments) {
        if (!Object.hasOwn(kept.environments, envSlug)) {
          deletes.push({
            action: 'delete',
            resource: 'environment',
            project: slug,
            name: `${slug}/${envSlug}`,
            fields: [{ field: 'type', from: env.type, to: null }],
          });
        }
      }
    }
    for (const name of state.roles.keys()) {
      if (!Object.hasOwn(want.roles, name))
        deletes.push({ action: 'delete', resource: 'role', name, fields: [] });
    }
    // Services go before their environments, roles before the projects their grants name.
    const order: Resource[] = ['service', 'environment', 'role', 'project'];
    deletes.sort((a, b) => order.indexOf(a.resource) - order.indexOf(b.resource));
  }

  const secrets = checkSecrets(want, state, projectWillExist, problem);
  if (problems.length > 0) throw configError(parsed.file, problems);
  const changes = [...creates, ...deletes];
  return {
    changes,
    secrets,
    summary: {
      create: changes.filter((c) => c.action === 'create').length,
      update: changes.filter((c) => c.action === 'update').length,
      delete: changes.filter((c) => c.action === 'delete').length,
      secretsMissing: secrets.length,
    },
  };
}

/** The identity of a secret declaration: name, level and assignee. */
function secretKey(s: SecretDeclaration): string {
  return JSON.stringify([
    s.name,
    s.project ?? '',
    s.environment ?? '',
    s.service ?? '',
    (s.assignee ?? '').toLowerCase(),
  ]);
}

/** The declared secrets that are missing or differ from what exists. */
function checkSecrets(
  want: Desired,
  state: OrganizationState,
  projectWillExist: (slug: string) => boolean,
  problem: (path: (string | number)[], message: string) => void,
): SecretFinding[] {
  const have = new Map(state.secrets.map((s) => [secretKey(s), s]));
  const findings: SecretFinding[] = [];
  want.secrets.forEach((secret, i) => {
    if (secret.project && !projectWillExist(secret.project)) {
      problem(
        ['secrets', i, 'project'],
        `project "${secret.project}" is not a project of ${state.org.slug}`,
      );
      return;
    }
    const p =
      secret.project && Object.hasOwn(want.projects, secret.project)
        ? want.projects[secret.project]
        : undefined;
    if (
      p &&
      secret.environment &&
      !Object.hasOwn(p.environments, secret.environment) &&
      !state.projects.get(secret.project!)?.environments.has(secret.environment)
    ) {
      problem(
        ['secrets', i, 'environment'],
        `environment "${secret.environment}" is not an environment of ${secret.project}`,
      );
      return;
    }
    if (
      p &&
      secret.service &&
      !Object.hasOwn(p.services, secret.service) &&
      !state.projects.get(secret.project!)?.services.has(secret.service)
    ) {
      problem(
        ['secrets', i, 'service'],
        `service "${secret.service}" is not a service of ${secret.project}`,
      );
      return;
    }
    if (secret.assignee && !state.members.has(secret.assignee.toLowerCase())) {
      problem(
        ['secrets', i, 'assignee'],
        `${secret.assignee} is not a member of ${state.org.slug}`,
      );
      return;
    }
    const found = have.get(secretKey(secret));
    if (!found) findings.push({ secret, problem: 'missing' });
    else if (found.kind !== secret.kind) {
      findings.push({ secret, problem: `kind is ${found.kind}, declared ${secret.kind}` });
    } else if (found.sensitivity !== secret.sensitivity) {
      findings.push({
        secret,
        problem: `sensitivity is ${found.sensitivity}, declared ${secret.sensitivity}`,
      });
    }
  });
  return findings;
}
