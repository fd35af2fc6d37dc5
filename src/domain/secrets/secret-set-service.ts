import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { secretAad } from '../../crypto/envelope.js';
import { HushError, hushError } from '../../errors.js';
import { translateDbErrors } from '../../store/db-errors.js';
import type { Schema, SecretRow } from '../../store/schema.js';
import {
  insertSecretsWithFirstVersions,
  insertSecretVersion,
  listSealedAt,
  type SealedVersion,
  setCurrentVersion,
} from '../../store/secret-store.js';
import type { AuditEntry, AuditService } from '../audit/audit-service.js';
import { now, type RequestContext } from '../context.js';
import type { KeyService } from '../keys/key-service.js';
import { authorize } from '../policy/authorize.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { validateEnvName, validateEnvValue } from './kinds.js';
import { type LevelRef, levelResource, loadLevel } from './scope.js';
import {
  assigneeIdOf,
  authorizeSteering,
  referenceWarningsOf,
  sealVersion,
} from './secret-writes.js';
import { isSteeringName } from './steering-names.js';
import { isTemplateError, parseTemplate } from './templates.js';

/** The most names one bulk set (or import) takes. */
export const MAX_SET_ENTRIES = 10_000;

/** One name and value to set; `line` is where an imported file gave it, for error messages. */
export interface SetEntry {
  name: string;
  value: string;
  line?: number | undefined;
}

export interface SetRequest {
  entries: readonly SetEntry[];
  /** Sensitivity of the secrets this creates; existing ones keep theirs. Default `secret`. */
  sensitivity?: 'secret' | 'plain' | undefined;
  assignee?: string | undefined;
  /** Plan only: authorize, validate and compare, write nothing. */
  dryRun?: boolean | undefined;
}

/** What a bulk set did (or, dry, would do) with one name. */
export interface SetOutcome {
  name: string;
  action: 'created' | 'rotated' | 'unchanged';
  /** The existing secret's id; a created one's (none in a dry run). */
  id: string | null;
  /** The version that is current afterwards (in a dry run: would be). */
  version: number;
  sensitivity: 'secret' | 'plain';
  line?: number;
  /** References to names no secret of the organization has (the value is stored all the same). */
  warnings?: string[];
}

export interface SetSummary {
  level: string;
  dryRun: boolean;
  created: number;
  rotated: number;
  unchanged: number;
  secrets: SetOutcome[];
}

type Existing = Awaited<ReturnType<typeof listSealedAt>>[number];

/** `line 3: ` for an entry from a file, nothing for one from a command line. */
const at = (entry: SetEntry) => (entry.line !== undefined ? `line ${entry.line}: ` : '');

/**
 * Every problem of the entries at once (name rule, value rule, a name given twice), as one
 * VALIDATION_FAILED naming `secrets.N.name` / `secrets.N.value` and the file line; never a value.
 */
function validateEntries(entries: readonly SetEntry[]): void {
  if (entries.length === 0)
    throw hushError('VALIDATION_FAILED', 'secrets: give at least one NAME=VALUE', {
      fields: [{ field: 'secrets', message: 'give at least one NAME=VALUE' }],
    });
  if (entries.length > MAX_SET_ENTRIES)
    throw hushError('VALIDATION_FAILED', `secrets: at most ${MAX_SET_ENTRIES} in one request`, {
      fields: [{ field: 'secrets', message: `at most ${MAX_SET_ENTRIES} in one request` }],
    });
  const fields: { field: string; message: string }[] = [];
  const firstIndex = new Map<string, number>();
  const check = (field: string, entry: SetEntry, run: () => void) => {
    try {
      run();
    } catch (error) {
      if (!(error instanceof HushError)) throw error;
      const message = (error.details?.fields as { message: string }[] | undefined)?.[0]?.message;
      fields.push({ field, message: `${at(entry)}${entry.name}: ${message ?? error.message}` });
    }
  };
  entries.forEach((entry, i) => {
    check(`secrets.${i}.name`, entry, () => validateEnvName(entry.name));
    check(`secrets.${i}.value`, entry, () => validateEnvValue(entry.value));
    const first = firstIndex.get(entry.name);
    if (first === undefined) firstIndex.set(entry.name, i);
    else {
      const earlier = entries[first]!.line;
      const where = earlier !== undefined ? `on line ${earlier}` : `as secrets.${first}`;
      fields.push({
        field: `secrets.${i}.name`,
        message: `${at(entry)}${entry.name} is given twice (first ${where})`,
      });
    }
  });
  refuseFields(fields);
}

/** One VALIDATION_FAILED for every problem found (the first 50 in details), if there is any. */
function refuseFields(fields: readonly { field: string; message: string }[]): void {
  if (fields.length === 0) return;
  const shown = fields.slice(0, 50);
  throw hushError(
    'VALIDATION_FAILED',
    `${fields.length} problem${fields.length === 1 ? '' : 's'}, nothing was written: ${shown
      .slice(0, 5)
      .map((f) => f.message)
      .join('; ')}${fields.length > 5 ? '; …' : ''}`,
    { fields: shown },
  );
}

/**
 * The references of every value that is a template (a new secret's, or one rotating a template)
 * parse, or one VALIDATION_FAILED names each that does not, with its character and line.
 */
function validateTemplates(entries: readonly SetEntry[], byName: ReadonlyMap<string, Existing>) {
  const fields: { field: string; message: string }[] = [];
  entries.forEach((entry, i) => {
    const row = byName.get(entry.name);
    // A literal value stays literal, and a steering variable is always literal (sealVersion).
    if ((row && row.refs === null) || isSteeringName(entry.name)) return;
    const parsed = parseTemplate(entry.value);
    if (isTemplateError(parsed))
      fields.push({
        field: `secrets.${i}.value`,
        message: `${at(entry)}${entry.name}: character ${parsed.position}: ${parsed.message}`,
      });
  });
  refuseFields(fields);
}

/**
 * Bulk set by name (`hush secret set A=1 B=2`, `hush import`): each env secret of the level is
 * created, or rotated when its value differs, or left alone when it is the same; all in one
 * transaction with one audit event per created or rotated secret, or nothing at all.
 */
export function createSecretSetService(deps: {
  uow: UnitOfWork;
  audit: AuditService;
  keys: KeyService;
}) {
  const { uow, audit, keys } = deps;

  /** Authorizes, validates and compares: what each entry needs, nothing written. */
  async function plan(
    db: Kysely<Schema>,
    ctx: RequestContext,
    orgSlug: string,
    ref: LevelRef,
    request: SetRequest,
  ) {
    const { org, at: level } = await loadLevel(db, ctx, orgSlug, ref);
    const resource = levelResource(org, level, request.entries[0]?.name ?? null);
    await authorize(db, ctx, 'secrets:write', resource);
    validateEntries(request.entries);
    for (const entry of request.entries)
      await authorizeSteering(db, ctx, 'env', entry.name, levelResource(org, level));
    const assigneeId = await assigneeIdOf(db, ctx, org, request.assignee);
    const rows = await listSealedAt(
      db,
      level,
      'env',
      assigneeId,
      request.entries.map((e) => e.name),
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    validateTemplates(request.entries, byName);
    const wanted = request.entries.filter((e) => byName.has(e.name));
    for (const entry of wanted) {
      const row = byName.get(entry.name)!;
      if (row.kind !== 'env')
        throw hushError(
          'CONFLICT',
          `${at(entry)}${entry.name} is a ${row.kind} secret at ${level.label}: set takes env variables; rotate it with "hush secret rotate"`,
          { field: `secrets.${request.entries.indexOf(entry)}.name` },
        );
    }
    const current = await keys.openAll(
      db,
      wanted.map((e) => {
        const row = byName.get(e.name)!;
        return {
          sealed: { keyId: row.keyId, ciphertext: row.ciphertext ?? '' },
          aad: secretAad(row.id, row.currentVersion),
        };
      }),
    );
    const unchanged = new Set(
      wanted.filter((e, i) => current[i]!.toString('utf8') === e.value).map((e) => e.name),
    );
    return { org, level, assigneeId, byName, unchanged };
  }

  function outcomes(
    request: SetRequest,
    planned: Awaited<ReturnType<typeof plan>>,
    dryRun: boolean,
  ): SetSummary {
    const secrets = request.entries.map((entry): SetOutcome => {
      const row = planned.byName.get(entry.name);
      const line = entry.line !== undefined ? { line: entry.line } : {};
      if (!row)
        return {
          name: entry.name,
          action: 'created',
          id: null,
          version: 1,
          sensitivity: request.sensitivity ?? 'secret',
          ...line,
        };
      const same = planned.unchanged.has(entry.name);
      return {
        name: entry.name,
        action: same ? 'unchanged' : 'rotated',
        id: row.id,
        version: same ? row.currentVersion : row.currentVersion + 1,
        sensitivity: row.sensitivity,
        ...line,
      };
    });
    const count = (action: SetOutcome['action']) =>
      secrets.filter((s) => s.action === action).length;
    return {
      level: planned.level.label,
      dryRun,
      created: count('created'),
      rotated: count('rotated'),
      unchanged: count('unchanged'),
      secrets,
    };
  }

  /** Writes what `plan` found: the new secrets in multi-row inserts, a version per rotation. */
  async function apply(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    planned: Awaited<ReturnType<typeof plan>>,
    summary: SetSummary,
    request: SetRequest,
  ) {
    const { org, level } = planned;
    const t = now();
    const created: { row: SecretRow; first: SealedVersion }[] = [];
    const events: { ctx: RequestContext; entry: AuditEntry }[] = [];
    const refsOf = new Map<number, string | null>();
    const assignee = planned.assigneeId ? (request.assignee?.toLowerCase() ?? null) : null;
    const whose = assignee ? ` assigned to ${assignee}` : '';
    for (const [i, outcome] of summary.secrets.entries()) {
      const entry = request.entries[i]!;
      if (outcome.action === 'unchanged') continue;
      const value = { kind: 'env' as const, value: entry.value };
      if (outcome.action === 'rotated') {
        const row: Existing = planned.byName.get(entry.name)!;
        // A rotation keeps the value's mode: a template stays one, a literal value stays literal.
        const expand = row.refs !== null;
        const sealed = await sealVersion(keys, trx, ctx, org, row, outcome.version, value, expand);
        refsOf.set(i, sealed.refs);
        await translateDbErrors(
          () =>
            insertSecretVersion(trx, {
              secretId: row.id,
              version: outcome.version,
              source: 'rotate',
              fromVersion: null,
              createdAt: t,
              ...sealed,
            }),
          {
            code: 'CONFLICT',
            message: `secret ${row.name} changed meanwhile (version ${outcome.version} exists); try again`,
            details: { field: `secrets.${i}.name` },
          },
        );
        await setCurrentVersion(trx, row.id, outcome.version, t);
        events.push({
          ctx,
          entry: {
            orgId: org.id,
            eventType: 'ROTATE',
            targetType: 'secret',
            targetId: row.id,
            targetName: row.name,
            change: `rotated env secret ${row.name} to version ${outcome.version} (bulk set at ${level.label})`,
            details: { from: row.currentVersion, to: outcome.version, bulk: true },
          },
        });
        continue;
      }
      const row: SecretRow = {
        id: randomUUID(),
        orgId: org.id,
        level: level.level,
        scopeId: level.scopeId,
        projectId: level.project?.id ?? null,
        environmentId: level.level === 'environment' ? (level.environment?.id ?? null) : null,
        serviceId: level.service?.id ?? null,
        kind: 'env',
        namespace: 'env',
        name: entry.name,
        sensitivity: outcome.sensitivity,
        assigneeId: planned.assigneeId,
        fileName: null,
        exportEnv: 0,
        currentVersion: 1,
        createdAt: t,
        updatedAt: t,
      };
      outcome.id = row.id;
      const first = await sealVersion(keys, trx, ctx, org, row, 1, value, true);
      refsOf.set(i, first.refs);
      created.push({ row, first });
      events.push({
        ctx,
        entry: {
          orgId: org.id,
          eventType: 'CREATE',
          targetType: 'secret',
          targetId: row.id,
          targetName: row.name,
          change: `added env secret ${row.name} at ${level.label}${whose} (bulk set)`,
          details: {
            secret: { id: row.id, name: row.name, kind: 'env', sensitivity: row.sensitivity },
            level: level.label,
            assignee,
            bulk: true,
          },
        },
      });
    }
    await translateDbErrors(() => insertSecretsWithFirstVersions(trx, created), {
      message: `a secret of these names was added at ${level.label} meanwhile; try again`,
      details: { field: 'secrets' },
    });
    if (events.length > 0) await audit.appendMany(trx, events);
    // After the inserts: a name this request creates counts as existing.
    const warnings = await referenceWarningsOf(trx, org, [...refsOf.values()]);
    [...refsOf.keys()].forEach((i, k) => {
      if (warnings[k]!.length > 0) summary.secrets[i]!.warnings = warnings[k];
    });
  }

  /** Creates, rotates or keeps each entry at a level, all or none; a dry run only plans. */
  function setValues(
    ctx: RequestContext,
    orgSlug: string,
    ref: LevelRef,
    request: SetRequest,
  ): Promise<SetSummary> {
    if (request.dryRun)
      return uow.read(ctx, async (db) =>
        outcomes(request, await plan(db, ctx, orgSlug, ref, request), true),
      );
    return uow.write(ctx, async (trx) => {
      const planned = await plan(trx, ctx, orgSlug, ref, request);
      const summary = outcomes(request, planned, false);
      await apply(trx, ctx, planned, summary, request);
      return summary;
    });
  }

  return { setValues };
}

export type SecretSetService = ReturnType<typeof createSecretSetService>;
