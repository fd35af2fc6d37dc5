import type { Kysely } from 'kysely';

import { secretAad } from '../../crypto/envelope.js';
import { invalid } from '../../errors.js';
import { findMemberByEmail } from '../../store/org-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import { listCandidates } from '../../store/secret-store.js';
import type { AuditService } from '../audit/audit-service.js';
import type { RequestContext } from '../context.js';
import type { KeyService } from '../keys/key-service.js';
import { loadOrganization } from '../orgs/org-service.js';
import { authorize } from '../policy/authorize.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { type Level, resolveSecrets } from './resolve.js';
import { type ContextScopes, resolveContext } from './scope.js';
import { type SecretValue, valueOf } from './secret-values.js';

export interface ContextRef {
  project: string;
  env?: string | undefined;
  service?: string | undefined;
  /** E-mail of the member whose view to resolve; default: the calling person (none for tokens). */
  member?: string | undefined;
}

/** One explained name, as `hush secret resolve --json` prints it (SPEC §8). */
export interface Explained {
  id: string;
  name: string;
  kind: string;
  level: Level;
  assignee: string | null;
  version: number;
  preview: string | null;
  shadows: { id: string; level: Level; assignee: string | null; version: number }[];
}

/** A resolved secret with its decrypted value: what a job or `hush run` receives. */
export interface ResolvedSecret {
  id: string;
  name: string;
  kind: 'env' | 'file' | 'pgservice';
  level: Level;
  assigned: boolean;
  fileName: string | null;
  value: SecretValue;
}

type Candidate = Awaited<ReturnType<typeof listCandidates>>[number] & {
  level: Level;
  version: number;
};

/** Resolution of a job context: explained (masked) for people, with values for jobs and tokens. */
export function createResolveService(deps: {
  uow: UnitOfWork;
  keys: KeyService;
  audit: AuditService;
}) {
  const { uow, keys, audit } = deps;

  async function memberId(
    db: Kysely<Schema>,
    ctx: RequestContext,
    org: OrganizationRow,
    email: string | undefined,
  ) {
    if (email) {
      const m = await findMemberByEmail(db, org.id, email.toLowerCase());
      if (!m) throw invalid('member', `${email} is not a member of ${org.slug}`);
      return m.userId;
    }
    return ctx.actor.kind === 'user' ? ctx.actor.userId : null;
  }

  /** Loads the candidates of a context and resolves them for a member (or none). */
  async function resolveIn(db: Kysely<Schema>, context: ContextScopes, member: string | null) {
    const rows = await listCandidates(db, [...context.scopes.keys()]);
    const candidates: Candidate[] = rows.map((r) => ({
      ...r,
      level: context.scopes.get(r.scopeId) ?? r.level,
      version: r.currentVersion,
    }));
    return resolveSecrets(candidates, member);
  }

  async function loadContext(
    db: Kysely<Schema>,
    ctx: RequestContext,
    orgSlug: string,
    ref: ContextRef,
    action: 'environment:read' | 'secrets:read-values' = 'environment:read',
  ) {
    const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
    const context = await resolveContext(db, org, ref);
    await authorize(db, ctx, action, {
      orgId: org.id,
      orgSlug: org.slug,
      targetType: 'secret',
      projectId: context.project.id,
      ...(context.environment ? { environmentId: context.environment.id } : {}),
    });
    return { org, context };
  }

  /** Explains the resolution of a context: winner and shadows per name, values masked. */
  function explain(ctx: RequestContext, orgSlug: string, ref: ContextRef): Promise<Explained[]> {
    return uow.read(ctx, async (db) => {
      const { org, context } = await loadContext(db, ctx, orgSlug, ref);
      const resolved = await resolveIn(db, context, await memberId(db, ctx, org, ref.member));
      return resolved.map(({ winner, shadows }) => ({
        id: winner.id,
        name: winner.name,
        kind: winner.kind,
        level: winner.level,
        assignee: winner.assigneeEmail,
        version: winner.version,
        preview: winner.preview,
        shadows: shadows.map((s) => ({
          id: s.id,
          level: s.level,
          assignee: s.assigneeEmail,
          version: s.version,
        })),
      }));
    });
  }

  /** Resolves and decrypts a context for a member (jobs) or none (service tokens); no authorization here. */
  async function resolveValues(
    db: Kysely<Schema>,
    context: ContextScopes,
    member: string | null,
  ): Promise<ResolvedSecret[]> {
    const resolved = await resolveIn(db, context, member);
    return Promise.all(
      resolved.map(async ({ winner: w }) => ({
        id: w.id,
        name: w.name,
        kind: w.kind,
        level: w.level,
        assigned: w.assigneeId !== null,
        fileName: w.fileName,
        value: valueOf(
          w.kind,
          await keys.open(
            db,
            { keyId: w.keyId, ciphertext: w.ciphertext ?? '' },
            secretAad(w.id, w.version),
          ),
        ),
      })),
    );
  }

  /**
   * The runtime read (`hush run`): the resolved set with values, for actors holding
   * "read secret values" (service tokens). The ACCESS event commits before the values leave.
   */
  function readValues(
    ctx: RequestContext,
    orgSlug: string,
    ref: ContextRef,
  ): Promise<ResolvedSecret[]> {
    return uow.write(ctx, async (trx) => {
      const { org, context } = await loadContext(trx, ctx, orgSlug, ref, 'secrets:read-values');
      const values = await resolveValues(trx, context, null);
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'ACCESS',
        targetType: 'secret',
        targetName: [context.project.slug, context.environment?.slug, context.service?.name]
          .filter(Boolean)
          .join('/'),
        change: `read ${values.length} secret values`,
        details: { secrets: values.map((v) => ({ name: v.name, kind: v.kind, level: v.level })) },
      });
      return values;
    });
  }

  return { explain, resolveValues, resolveIn, readValues };
}

export type ResolveService = ReturnType<typeof createResolveService>;
