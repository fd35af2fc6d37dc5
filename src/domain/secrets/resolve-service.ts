import { createHash } from 'node:crypto';

import type { Kysely } from 'kysely';

import { secretAad } from '../../crypto/envelope.js';
import { hushError } from '../../errors.js';
import { findOrganizationVersion } from '../../store/audit-store.js';
import { findMemberByEmail } from '../../store/org-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import { listCandidateLabels, listCandidates } from '../../store/secret-store.js';
import type { AuditEntry, AuditService } from '../audit/audit-service.js';
import { createGroupCommit } from '../audit/group-commit.js';
import type { ChangeFeed } from '../change-feed.js';
import type { RequestContext } from '../context.js';
import type { KeyService } from '../keys/key-service.js';
import { notAMember } from '../orgs/member-suggest.js';
import { loadOrganization, organizationResource } from '../orgs/org-service.js';
import { authorize, can, type Resource } from '../policy/authorize.js';
import { suggestNames } from '../suggest.js';
import { NO_TELEMETRY, type Telemetry } from '../telemetry.js';
import type { UnitOfWork } from '../unit-of-work.js';
import {
  parsePgEnvName,
  pgEnvStem,
  type PgField,
  pgFieldValue,
  SECRET_PG_FIELDS,
} from './pg-derived.js';
import {
  allWinners,
  buildOrThrow,
  type LoadedView,
  loadReferencedViews,
  type MayRead,
  viewOf,
  viewsWithValues,
} from './reference-views.js';
import { buildContext, type Built, type BuiltFrom, describeProblem } from './references.js';
import { type Level, resolveSecrets } from './resolve.js';
import { RuntimeCache } from './runtime-cache.js';
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
  /** For a derived, aliased or referencing value: what it is built from (never values). */
  builtFrom?: BuiltFrom[];
  /** Why it cannot be built (a job with it fails before it starts): the chain and the cause. */
  error?: string;
}

/** A resolved secret with its decrypted value: what a job or `hush run` receives. */
export interface ResolvedSecret {
  id: string;
  name: string;
  kind: 'env' | 'file' | 'pgservice';
  level: Level;
  assigned: boolean;
  fileName: string | null;
  /** `plain` values are readable by whoever may read the secret: jobs do not redact them. */
  sensitivity: 'secret' | 'plain';
  value: SecretValue;
  /**
   * Secret strings a built value holds or was made of (a referenced password, the encoded
   * password of a URL): redacted from job logs too. Never sent by the API.
   */
  parts?: string[];
}

/**
 * A derived variable of a pg service that does not give its variables to jobs (`secret get` of
 * one all the same): from the service's resolved settings, or undefined when it lacks the field.
 */
function derivedValue(
  values: readonly ResolvedSecret[],
  id: string,
  name: string,
  field: PgField,
): ResolvedSecret | undefined {
  const pg = values.find((v) => v.id === id && v.value.kind === 'pgservice');
  if (pg?.value.kind !== 'pgservice') return undefined;
  const text = pgFieldValue(pg.value.settings, field);
  if (text === undefined) return undefined;
  return {
    ...pg,
    name,
    kind: 'env',
    sensitivity: SECRET_PG_FIELDS.has(field) ? 'secret' : 'plain',
    value: { kind: 'env', value: text },
  };
}

/** How messages name a context: `maps/prod`, `maps/sync`. */
function contextLabel(context: ContextScopes): string {
  return [context.project.slug, context.environment?.slug, context.service?.name]
    .filter(Boolean)
    .join('/');
}

/** The explain fields of a built name: what it is built from, or why it cannot be built. */
function chainOf(b: Built | undefined, id = b?.source.id): Pick<Explained, 'builtFrom' | 'error'> {
  if (!b || b.source.id !== id) return {};
  if (b.problem) return { error: describeProblem(b.problem) };
  return b.from.length > 0 ? { builtFrom: b.from } : {};
}

/** Whether an If-None-Match header names this (strong) ETag; `*` matches any. */
function etagMatches(header: string, etag: string): boolean {
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag;
  });
}

type Candidate = Awaited<ReturnType<typeof listCandidates>>[number] & {
  level: Level;
  version: number;
};

/** What the policy checks for a read of a context's secrets. */
function contextResource(org: OrganizationRow, context: ContextScopes): Resource {
  return {
    orgId: org.id,
    orgSlug: org.slug,
    targetType: 'secret',
    projectId: context.project.id,
    ...(context.environment ? { environmentId: context.environment.id } : {}),
  };
}

/**
 * Who reads, as far as resolution and authorization depend on it: a token with its role and
 * scope (a changed role or scope is another key), or a person.
 */
function runtimeKey(ctx: RequestContext, orgId: string, ref: ContextRef): string {
  const a = ctx.actor;
  const who =
    a.kind === 'service-token'
      ? ['token', a.tokenId, a.role, a.scope]
      : a.kind === 'user'
        ? ['user', a.userId]
        : [a.kind];
  return JSON.stringify([who, orgId, ref.project, ref.env ?? null, ref.service ?? null]);
}

/** Rough bytes an entry holds: ciphertexts (then values) and names. */
function sizeOf(winners: readonly Candidate[]): number {
  let bytes = 512;
  for (const w of winners) bytes += 2 * (w.ciphertext?.length ?? 0) + 4 * w.name.length + 256;
  return bytes;
}

/** How often a waiting runtime read re-checks the database for changes made on other nodes. */
const RECHECK_MS = 2_000;

/** Memory kept for resolved runtime reads; least recently used entries go first. */
const RUNTIME_CACHE_BYTES = 32 * 1024 * 1024;

/** One cached runtime read: valid while the organization's `changeSeq` is the same. */
interface RuntimeEntry {
  changeSeq: number;
  resource: Resource;
  etag: string;
  /** The context and those its references reach. */
  loaded: Map<string, LoadedView<Candidate>>;
  /** Decrypted on the first read that sends values (a 304 never decrypts). */
  values: ResolvedSecret[] | null;
  /** The ACCESS event, made with the values (it names the other contexts' secrets used). */
  access: AuditEntry | null;
  label: string;
}

/**
 * The ACCESS event of a runtime read: the names read (never values), and the secrets of other
 * contexts that references took values from.
 */
function accessEvent(
  orgId: string,
  where: string,
  values: readonly ResolvedSecret[],
  built: readonly Built[],
): AuditEntry {
  const elsewhere = new Map<
    string,
    { name: string; kind: string; level: Level; context: string }
  >();
  for (const b of built)
    for (const f of b.from)
      if (f.context)
        elsewhere.set(`${f.context}:${f.name}`, {
          name: f.name,
          kind: f.kind,
          level: f.level,
          context: f.context,
        });
  return {
    orgId,
    eventType: 'ACCESS',
    targetType: 'secret',
    targetName: where,
    change: `read ${values.length} secret values`,
    details: {
      secrets: values.map((w) => ({ name: w.name, kind: w.kind, level: w.level })),
      ...(elsewhere.size > 0 ? { references: [...elsewhere.values()] } : {}),
    },
  };
}

/** Resolution of a job context: explained (masked) for people, with values for jobs and tokens. */
export function createResolveService(deps: {
  uow: UnitOfWork;
  keys: KeyService;
  audit: AuditService;
  changes?: ChangeFeed;
  telemetry?: Telemetry;
}) {
  const { uow, keys } = deps;
  const telemetry = deps.telemetry ?? NO_TELEMETRY;
  const access = createGroupCommit({ db: uow.db, audit: deps.audit, telemetry });
  const runtime = new RuntimeCache<RuntimeEntry>(RUNTIME_CACHE_BYTES);

  async function memberId(
    db: Kysely<Schema>,
    ctx: RequestContext,
    org: OrganizationRow,
    email: string | undefined,
  ) {
    if (email) {
      const m = await findMemberByEmail(db, org.id, email.toLowerCase());
      if (!m) throw await notAMember(db, ctx, org, email, 'member');
      return m.userId;
    }
    return ctx.actor.kind === 'user' ? ctx.actor.userId : null;
  }

  /** Loads the candidates of a context and resolves them for a member (or none). */
  async function resolveIn(
    db: Kysely<Schema>,
    context: Pick<ContextScopes, 'scopes'>,
    member: string | null,
  ) {
    const rows = await listCandidates(db, [...context.scopes.keys()], member);
    // The rows are this call's own: completing them in place spares a copy of each.
    const candidates = rows as Candidate[];
    for (const c of candidates) {
      c.level = context.scopes.get(c.scopeId) ?? c.level;
      c.version = c.currentVersion;
    }
    return resolveSecrets(candidates, member);
  }

  /** The reading context and every context its references reach, for `member`. */
  async function loadViews(
    db: Kysely<Schema>,
    org: Pick<OrganizationRow, 'id' | 'slug'>,
    context: ContextScopes,
    member: string | null,
    mayRead: MayRead,
  ) {
    const winners = (await resolveIn(db, context, member)).map((r) => r.winner);
    const root = viewOf('self', contextLabel(context), winners);
    return loadReferencedViews(db, org, root, (scopes) => resolveIn(db, scopes, member), mayRead);
  }

  /** Decrypts the winners of loaded views (`only` picks some): values by secret id. */
  async function decryptViews(
    db: Kysely<Schema>,
    loaded: ReadonlyMap<string, LoadedView<Candidate>>,
    only: (w: Candidate) => boolean = () => true,
  ): Promise<Map<string, SecretValue>> {
    const winners = allWinners(loaded).filter(only);
    const plaintexts = await keys.openAll(
      db,
      winners.map((w) => ({
        sealed: { keyId: w.keyId, ciphertext: w.ciphertext ?? '' },
        aad: secretAad(w.id, w.version),
      })),
    );
    return new Map(winners.map((w, i) => [w.id, valueOf(w.kind, plaintexts[i]!)]));
  }

  /**
   * Decrypts and builds the reading context: what a job or `hush run` receives. A name that
   * cannot be built is REFERENCE_FAILED (only those `only` picks count).
   */
  async function valuesOf(
    db: Kysely<Schema>,
    loaded: ReadonlyMap<string, LoadedView<Candidate>>,
    only?: (name: string) => boolean,
  ): Promise<{ values: ResolvedSecret[]; built: Built[] }> {
    const values = await decryptViews(db, loaded);
    const built = buildOrThrow(viewsWithValues(loaded, values), only);
    const root = loaded.get('self')!;
    const byId = new Map(root.winners.map((w) => [w.id, w]));
    const out: ResolvedSecret[] = [];
    for (const b of built) {
      const w = byId.get(b.source.id)!;
      out.push({
        id: w.id,
        name: b.name,
        kind: b.value?.kind === 'file' ? 'file' : 'env',
        level: w.level,
        assigned: w.assigneeId !== null,
        fileName: b.field ? null : w.fileName,
        sensitivity: b.sensitive ? 'secret' : 'plain',
        value: b.value!,
        ...(b.parts.length > 0 ? { parts: b.parts } : {}),
      });
    }
    for (const w of root.winners) {
      if (w.kind !== 'pgservice') continue;
      out.push({
        id: w.id,
        name: w.name,
        kind: 'pgservice',
        level: w.level,
        assigned: w.assigneeId !== null,
        fileName: null,
        sensitivity: w.sensitivity,
        value: values.get(w.id)!,
      });
    }
    const key = (r: ResolvedSecret) => `${r.kind === 'pgservice' ? 'pgservice' : 'env'}:${r.name}`;
    out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return { values: out, built };
  }

  async function loadContext(
    db: Kysely<Schema>,
    ctx: RequestContext,
    orgSlug: string,
    ref: ContextRef,
    action: 'environment:read' | 'secrets:read-values' = 'environment:read',
  ) {
    const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
    const context = await resolveContext(db, org, ref, ctx);
    await authorize(db, ctx, action, contextResource(org, context));
    return { org, context };
  }

  /** Explains the resolution of a context: winner and shadows per name, values masked. */
  function explain(ctx: RequestContext, orgSlug: string, ref: ContextRef): Promise<Explained[]> {
    return uow.read(ctx, async (db) => {
      const { org, context } = await loadContext(db, ctx, orgSlug, ref);
      const member = await memberId(db, ctx, org, ref.member);
      const resolved = await resolveIn(db, context, member);
      const labels = new Map(
        (await listCandidateLabels(db, [...context.scopes.keys()], member)).map((l) => [l.id, l]),
      );
      const assignee = (id: string) => labels.get(id)?.assigneeEmail ?? null;
      // What each name is built from needs no value but a pg service's settings (which fields
      // it has): only those are decrypted, and nothing decrypted leaves.
      const viewer: MayRead = {
        may: (resource) => can(db, ctx, 'environment:read', resource),
        denied: 'you may not list it',
      };
      const loaded = await loadReferencedViews(
        db,
        org,
        viewOf(
          'self',
          contextLabel(context),
          resolved.map((r) => r.winner),
        ),
        (scopes) => resolveIn(db, scopes, member),
        viewer,
      );
      const pg = await decryptViews(db, loaded, (w) => w.kind === 'pgservice');
      const built = new Map(buildContext(viewsWithValues(loaded, pg)).map((b) => [b.name, b]));
      const explained: Explained[] = resolved.map(({ winner, shadows }) => ({
        id: winner.id,
        name: winner.name,
        kind: winner.kind,
        level: winner.level,
        assignee: assignee(winner.id),
        version: winner.version,
        preview: labels.get(winner.id)?.preview ?? null,
        shadows: shadows.map((s) => ({
          id: s.id,
          level: s.level,
          assignee: assignee(s.id),
          version: s.version,
        })),
        ...chainOf(built.get(winner.name), winner.id),
      }));
      for (const b of built.values()) {
        if (!b.field) continue;
        explained.push({
          id: b.source.id,
          name: b.name,
          kind: 'env',
          level: b.source.level,
          assignee: assignee(b.source.id),
          version: b.source.version,
          preview: null,
          shadows: [],
          ...chainOf(b),
        });
      }
      const key = (e: Explained) => `${e.kind === 'pgservice' ? 'pgservice' : 'env'}:${e.name}`;
      return explained.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    });
  }

  /**
   * Resolves, decrypts and builds a context for a member (jobs) or none (service tokens); no
   * authorization of the context here. `mayRead` decides which other contexts references may
   * take values from (default: none but the organization level).
   */
  async function resolveValues(
    db: Kysely<Schema>,
    org: Pick<OrganizationRow, 'id' | 'slug'>,
    context: ContextScopes,
    member: string | null,
    mayRead: MayRead = { may: () => Promise.resolve(false), denied: 'it is not read from here' },
  ): Promise<ResolvedSecret[]> {
    return (await valuesOf(db, await loadViews(db, org, context, member, mayRead))).values;
  }

  /**
   * A strong validator of what a runtime read would return, computed without decrypting: the
   * caller's identity, the context and every winner's (id, version). A rotation, rollback,
   * removal or addition changes it; so does another token or context.
   */
  function etagOf(
    ctx: RequestContext,
    context: ContextScopes,
    loaded: ReadonlyMap<string, LoadedView<Candidate>>,
  ): string {
    const winners = allWinners(loaded);
    const who = ctx.actor.kind === 'service-token' || ctx.actor.kind === 'user' ? ctx.actor : null;
    const hash = createHash('sha256').update(
      JSON.stringify([
        who?.kind ?? ctx.actor.kind,
        who?.kind === 'service-token' ? who.tokenId : (who?.userId ?? null),
        context.project.id,
        context.environment?.id ?? null,
        context.service?.id ?? null,
      ]),
    );
    for (const w of winners) hash.update(`\n${w.id}:${w.version}`);
    // A context references may not read today may become readable (or appear): another ETag.
    for (const { view } of loaded.values()) if (view.unavailable) hash.update(`\n${view.key}!`);
    return `"${hash.digest('base64url')}"`;
  }

  /**
   * The runtime read (`hush run`): the resolved set with values, for actors holding
   * "read secret values" (service tokens), and its ETag. The ACCESS event is committed (with
   * those of concurrent reads, see {@link createGroupCommit}) before the values leave. With
   * `ifNoneMatch` equal to the current ETag, the answer is `values: null` (HTTP 304):
   * authorization still runs, nothing is decrypted and, since no value leaves, no ACCESS event
   * is written.
   *
   * Resolution and decryption are kept per (actor, context) in {@link RuntimeCache} and reused
   * while the organization's `changeSeq` is unchanged; authentication and both authorization
   * checks run on every request.
   */
  function readValuesIfChanged(
    ctx: RequestContext,
    orgSlug: string,
    ref: ContextRef,
    ifNoneMatch?: string,
    again = false,
  ): Promise<{ orgId: string; etag: string; values: ResolvedSecret[] | null }> {
    return uow.read(ctx, async (db) => {
      // A service token's organization came with its authentication, in the same statement;
      // a read `again` later in the same request (a long poll) needs its changeSeq of now.
      const actor = ctx.actor;
      const found =
        !again && actor.kind === 'service-token' && actor.organization?.org.slug === orgSlug
          ? actor.organization
          : await findOrganizationVersion(db, orgSlug);
      if (!found) throw hushError('ORGANIZATION_NOT_FOUND', `organization "${orgSlug}" not found`);
      const { org, changeSeq } = found;
      await authorize(db, ctx, 'org:read', organizationResource(org));
      const key = runtimeKey(ctx, org.id, ref);
      let entry = runtime.get(key, changeSeq);
      telemetry.runtimeRead(entry !== undefined);
      if (entry) {
        await authorize(db, ctx, 'secrets:read-values', entry.resource);
      } else {
        const context = await resolveContext(db, org, ref, ctx);
        const resource = contextResource(org, context);
        await authorize(db, ctx, 'secrets:read-values', resource);
        // Another context's values go to this token only where it could read them itself.
        const mayRead: MayRead = {
          may: (r) => can(db, ctx, 'secrets:read-values', r),
          denied: 'this token may not read its values',
        };
        const loaded = await loadViews(db, org, context, null, mayRead);
        entry = {
          changeSeq,
          resource,
          etag: etagOf(ctx, context, loaded),
          loaded,
          values: null,
          access: null,
          label: contextLabel(context),
        };
        runtime.set(key, entry, sizeOf(allWinners(loaded)));
      }
      if (ifNoneMatch && etagMatches(ifNoneMatch, entry.etag)) {
        return { orgId: org.id, etag: entry.etag, values: null };
      }
      if (entry.values === null || entry.access === null) {
        const { values, built } = await valuesOf(db, entry.loaded);
        entry.values = values;
        entry.access = accessEvent(org.id, entry.label, values, built);
      }
      await access.append(ctx, entry.access);
      return { orgId: org.id, etag: entry.etag, values: entry.values };
    });
  }

  /** The runtime read without a validator (see {@link readValuesIfChanged}). */
  async function readValues(
    ctx: RequestContext,
    orgSlug: string,
    ref: ContextRef,
  ): Promise<ResolvedSecret[]> {
    return (await readValuesIfChanged(ctx, orgSlug, ref)).values ?? [];
  }

  /**
   * One resolved value by name (`hush secret get`), in the caller's own view of the context (a
   * person's assigned secrets count). A plain env value needs only what listing it needs; any
   * other value needs "read secret values" (service tokens by role) and is audited as ACCESS of
   * that one secret. A name not there is SECRET_NOT_FOUND with the near names the caller may
   * see in `details.suggestions`; a name held by an env variable and a pg service needs `kind`.
   */
  function readOne(
    ctx: RequestContext,
    orgSlug: string,
    ref: ContextRef & { name: string; kind?: ResolvedSecret['kind'] | undefined },
  ): Promise<ResolvedSecret & { version: number }> {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'org:read');
      const context = await resolveContext(db, org, ref, ctx);
      const resource = contextResource(org, context);
      const member = await memberId(db, ctx, org, undefined);
      const resolved = await resolveIn(db, context, member);
      const derived = parsePgEnvName(ref.name);
      const named = resolved.filter(({ winner: w }) =>
        derived && (!ref.kind || ref.kind === 'env')
          ? w.kind === 'pgservice' && pgEnvStem(w.name) === derived.stem
          : w.name === ref.name && (!ref.kind || w.kind === ref.kind),
      );
      const where = contextLabel(context);
      const one = named[0];
      if (!one) {
        // Near names only for a caller who may list the context's secrets anyway.
        const seen = await can(db, ctx, 'environment:read', resource);
        const suggestions = seen
          ? suggestNames(
              ref.name,
              resolved.map((r) => r.winner.name),
            )
          : [];
        throw hushError(
          'SECRET_NOT_FOUND',
          `no ${ref.kind ? `${ref.kind} ` : ''}secret ${ref.name} in ${where}`,
          { field: 'name', ...(suggestions.length > 0 ? { suggestions } : {}) },
        );
      }
      // Whatever the value, reading it needs at least what listing the context needs.
      await authorize(db, ctx, 'environment:read', resource);
      if (named.length > 1)
        throw hushError(
          'CONFLICT',
          `${ref.name} names ${named.map((r) => `a ${r.winner.kind}`).join(' and ')} secret in ${where}: give kind`,
          { field: 'kind' },
        );
      // A person may read only plain values, so other contexts count where they may list them;
      // a token takes values only where it could read them itself.
      const action =
        ctx.actor.kind === 'service-token' ? 'secrets:read-values' : 'environment:read';
      const mayRead: MayRead = {
        may: (r) => can(db, ctx, action, r),
        denied: 'you may not read it',
      };
      const loaded = await loadViews(db, org, context, member, mayRead);
      const { values, built } = await valuesOf(db, loaded, (name) => name === ref.name);
      const w = one.winner;
      const wanted = w.kind === 'pgservice' && !derived ? w.name : ref.name;
      const value =
        values.find(
          (v) =>
            v.name === wanted && (v.kind === 'pgservice') === (w.kind === 'pgservice' && !derived),
        ) ?? (derived ? derivedValue(values, w.id, ref.name, derived.field) : undefined);
      if (!value)
        throw hushError('SECRET_NOT_FOUND', `pg service ${w.name} has no setting for ${ref.name}`, {
          field: 'name',
        });
      const plain = value.sensitivity === 'plain' && value.kind === 'env';
      await authorize(db, ctx, plain ? 'environment:read' : 'secrets:read-values', resource);
      if (!plain) {
        const from = built.find((b) => b.name === wanted)?.from ?? [];
        await access.append(ctx, {
          orgId: org.id,
          eventType: 'ACCESS',
          targetType: 'secret',
          targetId: w.id,
          targetName: where,
          change: `read the value of ${w.kind} secret ${ref.name}`,
          details: {
            secrets: [{ name: ref.name, kind: w.kind, level: w.level }],
            ...(from.length > 0
              ? {
                  references: from.map((f) => ({
                    name: f.name,
                    kind: f.kind,
                    level: f.level,
                    ...(f.context ? { context: f.context } : {}),
                  })),
                }
              : {}),
          },
        });
      }
      const { parts: _parts, ...shown } = value;
      return { ...shown, version: w.version };
    });
  }

  /**
   * The runtime read as a long poll (`hush run --watch`): while the caller's `ifNoneMatch` is
   * still the current ETag, waits up to `waitMs` for a change of the organization, then reads
   * again. A change committed on this node wakes the wait at once; one committed on another node
   * is seen at the next re-check, {@link RECHECK_MS} later at most. Every re-read authenticates
   * the request's credential again (`reauthenticate`) and authorizes anew, so a token revoked,
   * expired or re-scoped while its request waits ends the wait with that error and no value.
   */
  async function waitForValues(
    ctx: RequestContext,
    orgSlug: string,
    ref: ContextRef,
    ifNoneMatch: string | undefined,
    wait: { ms: number; signal?: AbortSignal; reauthenticate: () => Promise<RequestContext> },
  ): Promise<{ etag: string; values: ResolvedSecret[] | null }> {
    const deadline = Date.now() + wait.ms;
    const signal = wait.signal;
    for (let again = false; ; again = true) {
      const who = again ? await wait.reauthenticate() : ctx;
      const read = await readValuesIfChanged(who, orgSlug, ref, ifNoneMatch, again);
      const left = deadline - Date.now();
      if (read.values !== null || left <= 0 || signal?.aborted || !deps.changes) return read;
      await deps.changes.waitForChange(read.orgId, Math.min(left, RECHECK_MS), signal);
    }
  }

  return {
    explain,
    resolveValues,
    resolveIn,
    readValues,
    readValuesIfChanged,
    waitForValues,
    readOne,
  };
}

export type ResolveService = ReturnType<typeof createResolveService>;
