import { type Kysely, sql, type SqlBool } from 'kysely';

import { idStartsWith } from './id-prefix.js';
import { onPostgres, preparedQuery } from './prepared.js';
import type { AuditEventRow, OrganizationRow, Schema } from './schema.js';

const GENESIS = '0'.repeat(64);

/**
 * Reserves `count` seqs at the head of the organization's chain and returns the first of them
 * and the hash it must link to. With `changes` (a state-changing event), the head's `changeSeq`
 * moves to the last reserved seq. On PostgreSQL the UPDATE holds the head's row lock until
 * commit, so concurrent appends to one chain queue up instead of forking it. A chain's first
 * append creates its head, keyed from seq 1 and sealed with `sealNewHead()` (called only then).
 */
export async function advanceAuditHead(
  trx: Kysely<Schema>,
  orgId: string,
  count = 1,
  changes = false,
  sealNewHead?: () => string,
): Promise<{ seq: number; prevHash: string }> {
  const advance = changes ? advanceHeadChanging : advanceHead;
  let [head] = (await advance(trx, { orgId, count })).rows;
  if (!head) {
    // The organization's first event: create its head, then take the lock as usual.
    await trx
      .insertInto('auditHeads')
      .values({ orgId, seq: 0, hash: GENESIS, keyedFromSeq: 1, headMac: sealNewHead?.() ?? null })
      .onConflict((oc) => oc.column('orgId').doNothing())
      .execute();
    [head] = (await advance(trx, { orgId, count })).rows;
    if (!head) throw new Error(`audit head of ${orgId} could not be created`);
  }
  return { seq: Number(head.seq) - count + 1, prevHash: head.hash };
}

const advanceHead = preparedQuery(
  { orgId: null, count: null },
  (trx, a: { orgId: string; count: number }) =>
    trx
      .updateTable('auditHeads')
      .set((eb) => ({ seq: eb('seq', '+', a.count) }))
      .where('orgId', '=', a.orgId)
      .returning(['seq', 'hash']),
);

const advanceHeadChanging = preparedQuery(
  { orgId: null, count: null },
  (trx, a: { orgId: string; count: number }) =>
    trx
      .updateTable('auditHeads')
      .set((eb) => ({ seq: eb('seq', '+', a.count), changeSeq: eb('seq', '+', a.count) }))
      .where('orgId', '=', a.orgId)
      .returning(['seq', 'hash']),
);

const setHeadHash = preparedQuery(
  { orgId: null, hash: null },
  (trx, a: { orgId: string; hash: string }) =>
    trx.updateTable('auditHeads').set({ hash: a.hash }).where('orgId', '=', a.orgId),
);

// Rows per INSERT: 17 parameters each stays far below SQLite's and PostgreSQL's limits.
const INSERT_CHUNK = 500;

// The parameters of an event row: every column, always bound.
const EVENT_COLUMNS: { readonly [K in keyof AuditEventRow]-?: null } = {
  id: null,
  orgId: null,
  seq: null,
  timestamp: null,
  eventType: null,
  targetType: null,
  targetId: null,
  targetName: null,
  change: null,
  actor: null,
  actorId: null,
  tool: null,
  ip: null,
  details: null,
  prevHash: null,
  hash: null,
};

// Nearly every request appends exactly one event: that insert is compiled once.
const insertOneEvent = preparedQuery(EVENT_COLUMNS, (trx, row: AuditEventRow) =>
  trx.insertInto('auditEvents').values(row),
);

// PostgreSQL inserts the event and moves the head's hash to it in one statement (a
// data-modifying WITH): one round trip less for every audited request.
const insertOneEventMovingHead = preparedQuery(EVENT_COLUMNS, (trx, row: AuditEventRow) =>
  trx
    .with('event', (q) => q.insertInto('auditEvents').values(row))
    .updateTable('auditHeads')
    .set({ hash: row.hash })
    .where('orgId', '=', row.orgId),
);

/**
 * Inserts consecutive events of one organization (as reserved by {@link advanceAuditHead}) and
 * moves the chain head's hash to the last of them, in the caller's transaction.
 */
export async function insertAuditEvents(
  trx: Kysely<Schema>,
  rows: readonly AuditEventRow[],
): Promise<void> {
  const last = rows.at(-1);
  if (!last) return;
  if (rows.length === 1) {
    if (onPostgres(trx)) {
      await insertOneEventMovingHead(trx, last);
      return;
    }
    await insertOneEvent(trx, last);
    await setHeadHash(trx, { orgId: last.orgId, hash: last.hash });
    return;
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx
      .insertInto('auditEvents')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .execute();
  }
  await setHeadHash(trx, { orgId: last.orgId, hash: last.hash });
}

/** An organization with the seq of its last state-changing event (0: none). */
export interface OrganizationVersion {
  org: OrganizationRow;
  changeSeq: number;
}

/** The organization a slug names, with the seq of its last state-changing event. */
export async function findOrganizationVersion(
  db: Kysely<Schema>,
  slug: string,
): Promise<OrganizationVersion | undefined> {
  const [row] = (await organizationVersion(db, { slug })).rows;
  if (!row) return undefined;
  const { changeSeq, ...org } = row;
  return { org, changeSeq: Number(changeSeq ?? 0) };
}

const organizationVersion = preparedQuery({ slug: null }, (db, a: { slug: string }) =>
  db
    .selectFrom('organizations')
    .leftJoin('auditHeads', 'auditHeads.orgId', 'organizations.id')
    .selectAll('organizations')
    .select('auditHeads.changeSeq')
    .where('organizations.slug', '=', a.slug),
);

/** The filters of a list or an export (SPEC §6). */
export interface AuditFilter {
  orgId: string;
  since?: string | undefined;
  until?: string | undefined;
  targetType?: string | undefined;
  targetName?: string | undefined;
  eventType?: string | undefined;
  actor?: string | undefined;
  /** Only events up to this seq (an export stops at the head it counted). */
  throughSeq?: number | undefined;
}

export interface AuditQuery extends AuditFilter {
  /** Return events with seq below this (older page). */
  beforeSeq?: number | undefined;
  /** Return events with seq above this (newer page). */
  afterSeq?: number | undefined;
  limit: number;
}

/** Inclusive seq bounds of a time range, or null when no event falls in it. */
interface SeqRange {
  min?: number;
  max?: number;
}

/**
 * Turns `since`/`until` into seq bounds with two probes of (org_id, timestamp), so that every
 * filter can walk its (org_id, column, seq) index in seq order and stop after one page. Exact
 * because an event's timestamp is taken while its chain head is locked: within an organization,
 * time never decreases as seq grows (on one clock; see docs/architecture.md).
 */
async function seqRange(db: Kysely<Schema>, f: AuditFilter): Promise<SeqRange | null> {
  const range: SeqRange = f.throughSeq === undefined ? {} : { max: f.throughSeq };
  if (f.since) {
    const first = await db
      .selectFrom('auditEvents')
      .select('seq')
      .where('orgId', '=', f.orgId)
      .where('timestamp', '>=', f.since)
      .orderBy('timestamp', 'asc')
      .orderBy('seq', 'asc')
      .limit(1)
      .executeTakeFirst();
    if (!first) return null;
    range.min = Number(first.seq);
  }
  if (f.until) {
    const last = await db
      .selectFrom('auditEvents')
      .select('seq')
      .where('orgId', '=', f.orgId)
      .where('timestamp', '<', f.until)
      .orderBy('timestamp', 'desc')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last) return null;
    range.max = Math.min(range.max ?? Infinity, Number(last.seq));
  }
  if (range.min !== undefined && range.max !== undefined && range.min > range.max) return null;
  return range;
}

function filtered(db: Kysely<Schema>, f: AuditFilter, range: SeqRange) {
  let query = db.selectFrom('auditEvents').where('orgId', '=', f.orgId);
  if (f.targetType) query = query.where('targetType', '=', f.targetType);
  if (f.targetName) query = query.where('targetName', '=', f.targetName);
  if (f.eventType) query = query.where('eventType', '=', f.eventType);
  if (f.actor) query = query.where('actor', '=', f.actor);
  if (range.min !== undefined) query = query.where('seq', '>=', range.min);
  if (range.max !== undefined) query = query.where('seq', '<=', range.max);
  return query;
}

/** Lists events newest first with the given filters; `afterSeq` pages toward newer events. */
export async function listAuditEvents(db: Kysely<Schema>, q: AuditQuery): Promise<AuditEventRow[]> {
  const range = await seqRange(db, q);
  if (!range) return [];
  let query = filtered(db, q, range).selectAll();
  if (q.beforeSeq !== undefined) query = query.where('seq', '<', q.beforeSeq);
  if (q.afterSeq !== undefined) {
    const rows = await query
      .where('seq', '>', q.afterSeq)
      .orderBy('seq', 'asc')
      .limit(q.limit)
      .execute();
    return rows.map(normalize).reverse();
  }
  const rows = await query.orderBy('seq', 'desc').limit(q.limit).execute();
  return rows.map(normalize);
}

/** How many events match the filters. */
export async function countAuditEvents(db: Kysely<Schema>, f: AuditFilter): Promise<number> {
  const range = await seqRange(db, f);
  if (!range) return 0;
  const row = await filtered(db, f, range)
    .select((eb) => eb.fn.countAll().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Streams the events matching the filters oldest first, in keyset pages (constant memory, no
 * transaction held open between pages).
 */
export async function* iterateAuditEvents(
  db: Kysely<Schema>,
  f: AuditFilter,
  pageSize = 2000,
): AsyncGenerator<AuditEventRow> {
  const range = await seqRange(db, f);
  if (!range) return;
  let after = (range.min ?? 1) - 1;
  for (;;) {
    const rows = await filtered(db, f, range)
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq', 'asc')
      .limit(pageSize)
      .execute();
    for (const row of rows) yield normalize(row);
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) return;
    after = Number(last.seq);
  }
}

/** The seq of the organization's newest event (0 if none). */
export async function readAuditHeadSeq(db: Kysely<Schema>, orgId: string): Promise<number> {
  const head = await db
    .selectFrom('auditHeads')
    .select('seq')
    .where('orgId', '=', orgId)
    .executeTakeFirst();
  return head ? Number(head.seq) : 0;
}

/**
 * Holds the organization's chain head until commit, so that no other change of the organization
 * commits in between (every change appends to it): a transaction that reads the state and then
 * changes it sees exactly what it changes. On SQLite `begin immediate` already serializes writers.
 */
export async function lockAuditHead(trx: Kysely<Schema>, orgId: string): Promise<void> {
  if (!onPostgres(trx)) return;
  await trx.selectFrom('auditHeads').select('seq').where('orgId', '=', orgId).forUpdate().execute();
}

/** A chain head as verification reads it. */
export interface AuditHead {
  seq: number;
  hash: string;
  /** The last purged event's seq and hash: where the kept chain starts. */
  anchorSeq: number;
  anchorHash: string;
  keyedFromSeq: number;
  headMac: string | null;
}

/** The organization's chain head, or undefined when it has none (no event ever). */
export async function readAuditHead(
  db: Kysely<Schema>,
  orgId: string,
): Promise<AuditHead | undefined> {
  const head = await db
    .selectFrom('auditHeads')
    .select(['seq', 'hash', 'anchorSeq', 'anchorHash', 'keyedFromSeq', 'headMac'])
    .where('orgId', '=', orgId)
    .executeTakeFirst();
  return (
    head && {
      seq: Number(head.seq),
      hash: head.hash,
      anchorSeq: Number(head.anchorSeq),
      anchorHash: head.anchorHash,
      keyedFromSeq: Number(head.keyedFromSeq),
      headMac: head.headMac,
    }
  );
}

/** How many chain heads carry a seal (made under an audit key). */
export async function countSealedAuditHeads(db: Kysely<Schema>): Promise<number> {
  const row = await db
    .selectFrom('auditHeads')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('headMac', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Seals, in `trx`, every chain head that has no seal yet: the chains that existed when the audit
 * key was made (migration 0008 set their `keyedFromSeq` to their next event). A chain that has
 * no anchor but whose first event is not seq 1 (purged before anchors were kept) is anchored at
 * that event's link. `seal` computes a head's seal from its terms. Returns how many it sealed.
 */
export async function sealUnsealedAuditHeads(
  trx: Kysely<Schema>,
  seal: (
    orgId: string,
    terms: { keyedFromSeq: number; anchorSeq: number; anchorHash: string },
  ) => string,
): Promise<number> {
  const heads = await trx
    .selectFrom('auditHeads')
    .select(['orgId', 'anchorSeq', 'anchorHash', 'keyedFromSeq'])
    .where('headMac', 'is', null)
    .execute();
  for (const head of heads) {
    const terms = {
      keyedFromSeq: Number(head.keyedFromSeq),
      anchorSeq: Number(head.anchorSeq),
      anchorHash: head.anchorHash,
    };
    if (terms.anchorSeq === 0) {
      const first = await trx
        .selectFrom('auditEvents')
        .select(['seq', 'prevHash'])
        .where('orgId', '=', head.orgId)
        .orderBy('seq', 'asc')
        .limit(1)
        .executeTakeFirst();
      if (first && Number(first.seq) > 1) {
        terms.anchorSeq = Number(first.seq) - 1;
        terms.anchorHash = first.prevHash;
      }
    }
    await trx
      .updateTable('auditHeads')
      .set({ ...terms, headMac: seal(head.orgId, terms) })
      .where('orgId', '=', head.orgId)
      .execute();
  }
  return heads.length;
}

/** Organizations with a retention period, for the purge task. */
export async function listRetentionPolicies(
  db: Kysely<Schema>,
): Promise<{ orgId: string; days: number }[]> {
  const rows = await db
    .selectFrom('organizations')
    .select(['id', 'auditRetentionDays'])
    .where('auditRetentionDays', 'is not', null)
    .execute();
  return rows.map((r) => ({ orgId: r.id, days: Number(r.auditRetentionDays) }));
}

/**
 * Deletes, in `trx`, up to `limit` of the organization's oldest events older than `cutoff` —
 * only a gap-free run from the front of the chain, so the kept chain stays one piece — and moves
 * the anchor to the last one deleted, re-sealing the head with `seal` (given the head's new
 * terms). Returns how many were deleted and the new anchor.
 */
export async function purgeAuditPrefix(
  trx: Kysely<Schema>,
  orgId: string,
  cutoff: string,
  limit: number,
  seal: (terms: { keyedFromSeq: number; anchorSeq: number; anchorHash: string }) => string,
): Promise<{ deleted: number; anchorSeq: number }> {
  // A no-op update takes the chain head's row lock (PostgreSQL) before reading the anchor, so
  // two nodes purging at once queue up instead of both deleting the same run.
  const head = await trx
    .updateTable('auditHeads')
    .set((eb) => ({ anchorSeq: eb.ref('anchorSeq') }))
    .where('orgId', '=', orgId)
    .returning(['anchorSeq', 'anchorHash', 'keyedFromSeq'])
    .executeTakeFirst();
  if (!head) return { deleted: 0, anchorSeq: 0 };
  const anchor = { seq: Number(head.anchorSeq), hash: head.anchorHash };
  const rows = await trx
    .selectFrom('auditEvents')
    .select(['seq', 'timestamp', 'hash'])
    .where('orgId', '=', orgId)
    .where('seq', '>', anchor.seq)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
  let last: { seq: number; hash: string } | undefined;
  for (const row of rows) {
    if (row.timestamp >= cutoff) break;
    last = { seq: Number(row.seq), hash: row.hash };
  }
  if (!last) return { deleted: 0, anchorSeq: anchor.seq };
  const result = await trx
    .deleteFrom('auditEvents')
    .where('orgId', '=', orgId)
    .where('seq', '>', anchor.seq)
    .where('seq', '<=', last.seq)
    .executeTakeFirst();
  const terms = {
    keyedFromSeq: Number(head.keyedFromSeq),
    anchorSeq: last.seq,
    anchorHash: last.hash,
  };
  await trx
    .updateTable('auditHeads')
    .set({ anchorSeq: last.seq, anchorHash: last.hash, headMac: seal(terms) })
    .where('orgId', '=', orgId)
    .execute();
  return { deleted: Number(result.numDeletedRows), anchorSeq: last.seq };
}

/** One event by id within an organization, or undefined. */
export async function findAuditEvent(
  db: Kysely<Schema>,
  orgId: string,
  id: string,
): Promise<AuditEventRow | undefined> {
  const row = await db
    .selectFrom('auditEvents')
    .selectAll()
    .where('orgId', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && normalize(row);
}

/**
 * The ids of up to `limit` events of an organization: the one with id `id` (`{ id }`), or those
 * whose id starts with `prefix` (`{ prefix }`), in id order.
 */
export function findAuditEventIds(
  db: Kysely<Schema>,
  orgId: string,
  ref: { id: string } | { prefix: string },
  limit: number,
): Promise<{ id: string }[]> {
  const id =
    'id' in ref
      ? sql<SqlBool>`${sql.ref('auditEvents.id')} = ${ref.id}`
      : idStartsWith('auditEvents.id', ref.prefix);
  // Compared as an expression, org_id keeps SQLite (which has no statistics here) off the
  // (org_id, seq) index, a walk through the organization's whole log, and on the id's range.
  const org = sql<string>`${sql.ref('orgId')} || ''`;
  return db
    .selectFrom('auditEvents')
    .select('id')
    .where(id)
    .where(org, '=', orgId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** One event by seq within an organization, or undefined. */
export async function findAuditEventBySeq(
  db: Kysely<Schema>,
  orgId: string,
  seq: number,
): Promise<AuditEventRow | undefined> {
  const row = await db
    .selectFrom('auditEvents')
    .selectAll()
    .where('orgId', '=', orgId)
    .where('seq', '=', seq)
    .executeTakeFirst();
  return row && normalize(row);
}

/**
 * Streams an organization's chain in seq order, a page at a time (constant memory); with
 * `throughSeq`, only up to that seq (a verification stops at the head it read, so events
 * appended meanwhile are not taken for events beyond the head).
 */
export async function* iterateAuditChain(
  db: Kysely<Schema>,
  orgId: string,
  throughSeq?: number,
  pageSize = 5000,
): AsyncGenerator<AuditEventRow> {
  let after = -1;
  for (;;) {
    let query = db
      .selectFrom('auditEvents')
      .selectAll()
      .where('orgId', '=', orgId)
      .where('seq', '>', after);
    if (throughSeq !== undefined) query = query.where('seq', '<=', throughSeq);
    const rows = await query.orderBy('seq', 'asc').limit(pageSize).execute();
    for (const row of rows) yield normalize(row);
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) return;
    after = Number(last.seq);
  }
}

function normalize(row: AuditEventRow): AuditEventRow {
  return { ...row, seq: Number(row.seq) };
}
