import type { Kysely } from 'kysely';

import { HushError, hushError } from '../../errors.js';
import { lockAuditHead } from '../../store/audit-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import type { AuditService } from '../audit/audit-service.js';
import type { RequestContext } from '../context.js';
import { loadOrganization } from '../orgs/org-service.js';
import { changeMemberRole, changeRoleGrants, dropRole, writeRole } from '../orgs/role-writes.js';
import { authorize, listableProjectIds, type Resource } from '../policy/authorize.js';
import type { Grant } from '../policy/custom-roles.js';
import type { PolicyAction } from '../policy/roles.js';
import {
  changeService,
  dropEnvironment,
  dropProject,
  dropService,
  type Recorder,
  renameProject,
  writeEnvironment,
  writeProject,
  writeService,
} from '../projects/project-writes.js';
import type { UnitOfWork } from '../unit-of-work.js';
import type { EnvironmentType } from '../validation.js';
import { parseConfig, type ParsedConfig } from './config-parse.js';
import { computePlan, type Plan, type PlannedChange } from './config-plan.js';
import {
  type OrganizationState,
  readOrganizationState,
  stateAsYaml,
  stateDigest,
} from './config-state.js';

/** A hush.yaml as a client sends it: the file's name (for errors) and its text. */
export interface ConfigInput {
  file: string;
  source: string;
  prune: boolean;
}

/** A plan as clients receive it: what would change, and what it was computed against. */
export interface PlanResult extends Plan {
  organization: string;
  file: string;
  /** sha256 of the file's text: apply records it in every audit event it writes. */
  digest: string;
  /** sha256 of the organization's state the plan was computed against. */
  state: string;
  prune: boolean;
}

export const SCHEMA_PATH = '/api/v1/hush.schema.json';

/**
 * Configuration as code: the plan of a hush.yaml against an organization, its apply in one
 * transaction, and the export of an organization as a hush.yaml.
 */
export function createConfigService(deps: {
  uow: UnitOfWork;
  audit: AuditService;
  jobMounts?: readonly string[];
}) {
  const { uow } = deps;
  const jobMounts = deps.jobMounts ?? [];

  /**
   * Loads the organization and its state; the caller must be able to read all of it (every
   * project, environment and service), since a plan shows all of it.
   */
  async function loadState(db: Kysely<Schema>, ctx: RequestContext, orgSlug: string) {
    const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
    const whole: Resource = { orgId: org.id, orgSlug: org.slug, targetType: 'organization' };
    await authorize(db, ctx, 'environment:read', whole);
    if ((await listableProjectIds(db, ctx, org.id)) !== 'all') {
      throw hushError(
        'PERMISSION_DENIED',
        'plan, apply and export read every project of the organization; this role or token sees only some',
        {
          permission: 'environment:read',
          orgId: org.id,
          organization: org.slug,
          targetType: 'organization',
          targetId: org.id,
          targetName: org.slug,
        },
      );
    }
    return readOrganizationState(db, org);
  }

  function planOf(parsed: ParsedConfig, state: OrganizationState, prune: boolean): PlanResult {
    return {
      organization: state.org.slug,
      file: parsed.file,
      digest: parsed.digest,
      state: stateDigest(state),
      prune,
      ...computePlan(parsed, state, { prune, jobMounts }),
    };
  }

  function plan(ctx: RequestContext, orgSlug: string, input: ConfigInput): Promise<PlanResult> {
    const parsed = parseConfig(input.file, input.source);
    return uow.read(ctx, async (db) =>
      planOf(parsed, await loadState(db, ctx, orgSlug), input.prune),
    );
  }

  /**
   * Applies a file in one transaction, all or nothing: refuses when the organization's state is
   * not `expectedState` (it changed since the plan the caller showed), authorizes every change
   * before writing any, and records each with tool `apply` and the file's digest.
   */
  function apply(
    ctx: RequestContext,
    orgSlug: string,
    input: ConfigInput & { expectedState?: string | undefined },
  ): Promise<PlanResult> {
    const parsed = parseConfig(input.file, input.source);
    const applyCtx: RequestContext = { ...ctx, tool: 'apply' };
    return uow.write(applyCtx, async (trx) => {
      const org = await loadOrganization(trx, applyCtx, orgSlug, 'org:read');
      // No other change of the organization commits between this read and the writes below.
      await lockAuditHead(trx, org.id);
      const state = await loadState(trx, applyCtx, orgSlug);
      const result = planOf(parsed, state, input.prune);
      if (input.expectedState !== undefined && input.expectedState !== result.state) {
        throw hushError(
          'CONFLICT',
          `organization ${org.slug} changed since the plan was made; run hush plan again and review it`,
          { expected: input.expectedState, actual: result.state },
        );
      }
      for (const change of result.changes) await authorizeChange(trx, applyCtx, state, change);
      const recorder: Recorder = {
        ctx: applyCtx,
        audit: {
          append: (t, c, entry) =>
            deps.audit.append(t, c, {
              ...entry,
              details: {
                ...(entry.details as object),
                apply: { file: parsed.file, digest: parsed.digest },
              },
            }),
        },
      };
      await execute(trx, recorder, state, parsed, result.changes);
      return result;
    });
  }

  /** The organization as a hush.yaml, which `plan` reports as no changes. */
  function exportConfig(ctx: RequestContext, orgSlug: string, schemaUrl: string) {
    return uow.read(ctx, async (db) => {
      const state = await loadState(db, ctx, orgSlug);
      return { organization: state.org.slug, source: stateAsYaml(state, schemaUrl) };
    });
  }

  /** Authorizes one change with the policy function; a denial names the resource. */
  async function authorizeChange(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    state: OrganizationState,
    change: PlannedChange,
  ): Promise<void> {
    const org = state.org;
    const base = { orgId: org.id, orgSlug: org.slug };
    const project = change.project ? state.projects.get(change.project) : undefined;
    const checks: [PolicyAction, Resource][] = [];
    const leaf = change.name.split('/').pop() ?? change.name;
    switch (change.resource) {
      case 'project': {
        const row = state.projects.get(change.name)?.row;
        const target = { ...base, targetType: 'project' as const, targetName: change.name };
        checks.push(
          change.action === 'create'
            ? ['project:create', target]
            : ['project:edit', { ...target, targetId: row!.id, projectId: row!.id }],
        );
        break;
      }
      case 'environment': {
        const env = project?.environments.get(leaf);
        const target = {
          ...base,
          targetType: 'environment' as const,
          targetName: change.name,
          ...(project ? { projectId: project.row.id } : {}),
        };
        checks.push(
          change.action === 'create'
            ? ['environment:create', { ...target, environmentType: String(change.fields[0]?.to) }]
            : ['environment:edit', { ...target, targetId: env!.id, environmentId: env!.id }],
        );
        break;
      }
      case 'service': {
        const service = project?.services.get(leaf);
        const target = {
          ...base,
          targetType: 'service' as const,
          targetName: change.name,
          ...(project ? { projectId: project.row.id } : {}),
        };
        const envTarget = (envSlug: unknown) => {
          const env = typeof envSlug === 'string' ? project?.environments.get(envSlug) : undefined;
          return env ? { environmentId: env.id } : {};
        };
        if (change.action === 'create') {
          const env = change.fields.find((f) => f.field === 'environment')?.to;
          checks.push(['environment:create', { ...target, ...envTarget(env) }]);
        } else {
          const id = service!.environmentId;
          checks.push([
            'environment:edit',
            { ...target, targetId: service!.id, ...(id ? { environmentId: id } : {}) },
          ]);
          const moved = change.fields.find((f) => f.field === 'environment');
          if (moved) checks.push(['environment:edit', { ...target, ...envTarget(moved.to) }]);
        }
        break;
      }
      case 'role':
      case 'member':
        checks.push([
          'members:manage',
          { ...base, targetType: change.resource, targetName: change.name },
        ]);
        break;
    }
    for (const [action, resource] of checks) {
      try {
        await authorize(trx, ctx, action, resource);
      } catch (error) {
        if (!(error instanceof HushError) || error.code !== 'PERMISSION_DENIED') throw error;
        throw new HushError(
          'PERMISSION_DENIED',
          `cannot ${change.action} ${change.resource} ${change.name}: ${error.message}`,
          error.details,
        );
      }
    }
  }

  return { plan, apply, export: exportConfig };
}

/** Performs the planned changes in order through the domain's shared writes. */
async function execute(
  trx: Kysely<Schema>,
  recorder: Recorder,
  state: OrganizationState,
  parsed: ParsedConfig,
  changes: readonly PlannedChange[],
): Promise<void> {
  const org: OrganizationRow = state.org;
  const want = parsed.config;
  const projects = new Map(
    [...state.projects].map(([slug, p]) => [slug, { ...p, environments: new Map(p.environments) }]),
  );
  const projectOf = (slug: string) => {
    const p = projects.get(slug);
    if (!p) throw new Error(`project ${slug} is not in the plan's state`);
    return p;
  };
  const grantsOf = (name: string) => {
    const named = want.roles[name]!.grants;
    const grants: Grant[] = named.map((g) => ({
      projectId: projectOf(g.project).row.id,
      type: g.type,
      level: g.level,
    }));
    return { grants, named };
  };
  for (const change of changes) {
    const leaf = change.name.split('/').pop() ?? change.name;
    const to = Object.fromEntries(change.fields.map((f) => [f.field, f.to]));
    switch (`${change.resource}:${change.action}`) {
      case 'project:create': {
        const row = await writeProject(trx, recorder, org, {
          slug: change.name,
          name: String(to.name),
        });
        projects.set(change.name, { row, environments: new Map(), services: new Map() });
        break;
      }
      case 'project:update':
        await renameProject(trx, recorder, org, projectOf(change.name).row, String(to.name));
        break;
      case 'project:delete':
        await dropProject(trx, recorder, org, projectOf(change.name).row);
        break;
      case 'environment:create': {
        const p = projectOf(change.project!);
        const row = await writeEnvironment(trx, recorder, org, p.row, {
          slug: leaf,
          type: to.type as EnvironmentType,
        });
        p.environments.set(leaf, row);
        break;
      }
      case 'environment:delete': {
        const p = projectOf(change.project!);
        await dropEnvironment(trx, recorder, org, p.row, p.environments.get(leaf)!);
        break;
      }
      case 'service:create':
      case 'service:update': {
        const p = projectOf(change.project!);
        const s = want.projects[change.project!]!.services[leaf]!;
        const env = s.environment ? p.environments.get(s.environment) : undefined;
        const fields = {
          environmentId: env?.id ?? null,
          command: s.command,
          workingDir: s.workingDir ?? null,
          timeoutSeconds: s.timeout,
        };
        if (change.action === 'create') {
          await writeService(trx, recorder, org, p.row, {
            ...fields,
            name: leaf,
            envSlug: env?.slug ?? null,
          });
        } else {
          await changeService(trx, recorder, org, p.row, p.services.get(leaf)!, fields);
        }
        break;
      }
      case 'service:delete': {
        const p = projectOf(change.project!);
        await dropService(trx, recorder, org, p.row, p.services.get(leaf)!);
        break;
      }
      case 'role:create':
        await writeRole(trx, recorder, org, { name: change.name, ...grantsOf(change.name) });
        break;
      case 'role:update': {
        const { grants, named } = grantsOf(change.name);
        await changeRoleGrants(trx, recorder, org, state.roles.get(change.name)!, {
          grants,
          from: change.fields[0]!.from as typeof named,
          to: named,
        });
        break;
      }
      case 'role:delete':
        await dropRole(trx, recorder, org, state.roles.get(change.name)!);
        break;
      case 'member:update':
        await changeMemberRole(
          trx,
          recorder,
          org,
          state.members.get(change.name)!,
          String(to.role),
        );
        break;
      default:
        throw new Error(`no write for ${change.resource}:${change.action}`);
    }
  }
}

export type ConfigService = ReturnType<typeof createConfigService>;
