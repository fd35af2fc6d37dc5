import type { Kysely } from 'kysely';

import type { AuditEventRow, Schema } from './schema.js';

const GENESIS = '0'.repeat(64);

/**
 * Advances the organization's chain head by one and returns the new sequence number and the
 * previous event's hash. On PostgreSQL the UPDATE holds the head's row lock until commit, so
 * concurrent appends to one chain queue up instead of forking it.
 */
export async function advanceAuditHead(
  trx: Kysely<Schema>,
  orgId: string,
): Promise<{ seq: number; prevHash: string }> {
  await trx
    .insertInto('auditHeads')
    .values({ orgId, seq: 0, hash: GENESIS })
    .onConflict((oc) => oc.column('orgId').doNothing())
    .execute();
  const head = await trx
    .updateTable('auditHeads')
    .set((eb) => ({ seq: eb('seq', '+', 1) }))
    .where('orgId', '=', orgId)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  return { seq: Number(head.seq), prevHash: head.hash };
}

/** Inserts an event and moves the chain head's hash to it (same transaction as the head advance). */
export async function insertAuditEvent(trx: Kysely<Schema>, row: AuditEventRow): Promise<void> {
  await trx.insertInto('auditEvents').values(row).execute();
  await trx
    .updateTable('auditHeads')
    .set({ hash: row.hash })
    .where('orgId', '=', row.orgId)
    .execute();
}

export interface AuditQuery {
  orgId: string;
  since?: string | undefined;
  until?: string | undefined;
  targetType?: string | undefined;
  targetName?: string | undefined;
  eventType?: string | undefined;
  actor?: string | undefined;
  /** Return events with seq below this (older page). */
  beforeSeq?: number | undefined;
  /** Return events with seq above this (newer page). */
  afterSeq?: number | undefined;
  limit: number;
}

/** Lists events newest first with the given filters; `afterSeq` pages toward newer events. */
export async function listAuditEvents(db: Kysely<Schema>, q: AuditQuery): Promise<AuditEventRow[]> {
  let query = db.selectFrom('auditEvents').selectAll().where('orgId', '=', q.orgId);
  if (q.since) query = query.where('timestamp', '>=', q.since);
  if (q.until) query = query.where('timestamp', '<', q.until);
  if (q.targetType) query = query.where('targetType', '=', q.targetType);
  if (q.targetName) query = query.where('targetName', '=', q.targetName);
  if (q.eventType) query = query.where('eventType', '=', q.eventType);
  if (q.actor) query = query.where('actor', '=', q.actor);
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

/** Streams an organization's chain in seq order, a page at a time (constant memory). */
export async function* iterateAuditChain(
  db: Kysely<Schema>,
  orgId: string,
  pageSize = 5000,
): AsyncGenerator<AuditEventRow> {
  let after = -1;
  for (;;) {
    const rows = await db
      .selectFrom('auditEvents')
      .selectAll()
      .where('orgId', '=', orgId)
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

function normalize(row: AuditEventRow): AuditEventRow {
  return { ...row, seq: Number(row.seq) };
}
