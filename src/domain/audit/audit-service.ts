import type { Kysely } from 'kysely';

import { hushError } from '../../errors.js';
import {
  advanceAuditHead,
  type AuditQuery,
  findAuditEvent,
  insertAuditEvents,
  listAuditEvents,
} from '../../store/audit-store.js';
import { listOrganizationsOfUser } from '../../store/org-store.js';
import type { AuditEventRow, Schema } from '../../store/schema.js';
import type { ChangeFeed } from '../change-feed.js';
import { actorId, actorName, now, type RequestContext } from '../context.js';
import { timeOrderedId } from '../ids.js';
import type { AuditKey } from './audit-key.js';
import { issueCheckpoint, verifyChain } from './audit-verify.js';
import {
  type ChainVerdict,
  computeKeyedEventHash,
  GENESIS_HASH,
  type HeadTerms,
  sealHead,
} from './chain.js';
import type { AuditCheckpoint } from './checkpoint.js';

export const EVENT_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'ROTATE',
  'ROLLBACK',
  'TRIGGER_JOB',
  'CANCEL_JOB',
  'ACCESS',
  'LOGIN',
  'LOGIN_FAILED',
  'DENIED',
  'EXPORT',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const TARGET_TYPES = [
  'organization',
  'member',
  'role',
  'project',
  'environment',
  'service',
  'secret',
  'job',
  'token',
  'invitation',
  'settings',
  'rotation',
] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

/**
 * Event types that record a change of state. Their appends move the organization's `changeSeq`,
 * which the runtime read cache compares; reads, sign-ins, denials, exports and job events leave
 * it alone.
 */
const CHANGE_EVENTS: ReadonlySet<EventType> = new Set([
  'CREATE',
  'UPDATE',
  'DELETE',
  'ROTATE',
  'ROLLBACK',
]);

/** A chain made now is keyed from its first event and has nothing purged. */
const NEW_HEAD: HeadTerms = { keyedFromSeq: 1, anchorSeq: 0, anchorHash: GENESIS_HASH };

/** What a service call says happened; the audit service adds actor, tool, time and the chain. */
export interface AuditEntry {
  /** Organization id, or '' for instance-level events. */
  orgId: string;
  eventType: EventType;
  targetType: TargetType;
  targetId?: string | null;
  targetName?: string | null;
  /** One line; names objects, never values. */
  change: string;
  /** The request's outcome as JSON; must never hold a secret value. */
  details?: Record<string, unknown>;
}

/** The public shape of an event (REST, CLI, exports). */
export interface AuditEvent {
  id: string;
  timestamp: string;
  organization: string;
  seq: number;
  eventType: string;
  targetType: string;
  targetId: string | null;
  targetName: string | null;
  change: string;
  actor: string;
  tool: string;
  ip: string | null;
  details: unknown;
  prevHash: string;
  hash: string;
}

/**
 * Appends events to an organization's keyed hash chain inside the caller's transaction, reads
 * them, verifies the chain and signs checkpoints of it; `auditKey` must be loaded first.
 */
export function createAuditService(deps: { auditKey: AuditKey; changes?: ChangeFeed }) {
  const { auditKey } = deps;

  /** Appends one event in `trx`; the caller's commit makes it durable together with the change. */
  async function append(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    entry: AuditEntry,
  ): Promise<AuditEventRow> {
    const [row] = await appendMany(trx, [{ ctx, entry }]);
    return row!;
  }

  /**
   * Appends events in `trx`, in the given order within each organization: one head advance and
   * one multi-row insert per organization (the group commit of concurrent ACCESS events).
   */
  async function appendMany(
    trx: Kysely<Schema>,
    items: readonly { ctx: RequestContext; entry: AuditEntry }[],
  ): Promise<AuditEventRow[]> {
    const byOrg = new Map<string, { ctx: RequestContext; entry: AuditEntry }[]>();
    for (const item of items) {
      const list = byOrg.get(item.entry.orgId);
      if (list) list.push(item);
      else byOrg.set(item.entry.orgId, [item]);
    }
    // In memory since start: an append costs one HMAC per event, never an unwrap.
    const keys = auditKey.current();
    const appended: AuditEventRow[] = [];
    // Heads are locked in one order (by organization id) in every transaction that takes several,
    // so two such transactions cannot deadlock.
    for (const [orgId, list] of [...byOrg].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const changes = list.some(({ entry }) => CHANGE_EVENTS.has(entry.eventType));
      if (changes) deps.changes?.touched(trx, orgId);
      const head = await advanceAuditHead(trx, orgId, list.length, changes, () =>
        sealHead(keys.head, orgId, NEW_HEAD),
      );
      // Taken while the head is locked: within an organization, time never decreases with seq.
      const timestamp = now();
      let prevHash = head.prevHash;
      const rows = list.map(({ ctx, entry }, i) => {
        const fields = {
          id: timeOrderedId(),
          orgId,
          seq: head.seq + i,
          timestamp,
          eventType: entry.eventType,
          targetType: entry.targetType,
          targetId: entry.targetId ?? null,
          targetName: entry.targetName ?? null,
          change: entry.change,
          actor: actorName(ctx.actor),
          actorId: actorId(ctx.actor),
          tool: ctx.tool,
          ip: ctx.ip,
          details: JSON.stringify(entry.details ?? {}),
        };
        const row: AuditEventRow = {
          ...fields,
          prevHash,
          hash: computeKeyedEventHash(keys.event, fields, prevHash),
        };
        prevHash = row.hash;
        return row;
      });
      await insertAuditEvents(trx, rows);
      appended.push(...rows);
    }
    return appended;
  }

  /** Appends an event to every organization of the user, or to the instance chain if none. */
  async function appendForUser(
    trx: Kysely<Schema>,
    ctx: RequestContext,
    userId: string | null,
    entry: Omit<AuditEntry, 'orgId'>,
  ): Promise<void> {
    const orgs = userId ? await listOrganizationsOfUser(trx, userId) : [];
    if (orgs.length === 0) await append(trx, ctx, { ...entry, orgId: '' });
    const ids = orgs.map((o) => o.id).sort();
    for (const orgId of ids) await append(trx, ctx, { ...entry, orgId });
  }

  async function list(db: Kysely<Schema>, query: AuditQuery): Promise<AuditEvent[]> {
    const rows = await listAuditEvents(db, query);
    return rows.map(toPublic);
  }

  /** Throws AUDIT_EVENT_NOT_FOUND. */
  async function get(db: Kysely<Schema>, orgId: string, id: string): Promise<AuditEvent> {
    const row = await findAuditEvent(db, orgId, id);
    if (!row) throw hushError('AUDIT_EVENT_NOT_FOUND', `audit event ${id} not found`);
    return toPublic(row);
  }

  /**
   * Recomputes the chain from the first kept event to the head and names the first broken link;
   * with a checkpoint, also that the chain still holds its event. Throws AUDIT_CHECKPOINT_INVALID
   * for a checkpoint this server did not sign for the organization.
   */
  function verify(
    db: Kysely<Schema>,
    orgId: string,
    checkpoint?: AuditCheckpoint,
  ): Promise<ChainVerdict> {
    return verifyChain(db, auditKey.current(), orgId, checkpoint);
  }

  /** Signs the verified head of the chain; throws AUDIT_CHAIN_BROKEN when it does not verify. */
  function checkpoint(
    db: Kysely<Schema>,
    org: { id: string; slug: string },
  ): Promise<AuditCheckpoint> {
    return issueCheckpoint(db, auditKey.current(), org);
  }

  /** The seal of a chain head with these terms (retention re-seals after moving the anchor). */
  function sealHeadOf(orgId: string, terms: HeadTerms): string {
    return sealHead(auditKey.current().head, orgId, terms);
  }

  return { append, appendMany, appendForUser, list, get, verify, checkpoint, sealHead: sealHeadOf };
}

export type AuditService = ReturnType<typeof createAuditService>;

/** The public shape of a stored event (REST, CLI, exports). */
export function toPublic(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    timestamp: row.timestamp,
    organization: row.orgId,
    seq: row.seq,
    eventType: row.eventType,
    targetType: row.targetType,
    targetId: row.targetId,
    targetName: row.targetName,
    change: row.change,
    actor: row.actor,
    tool: row.tool,
    ip: row.ip,
    details: JSON.parse(row.details) as unknown,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
