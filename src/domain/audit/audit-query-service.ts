import { hushError, invalid } from '../../errors.js';
import {
  countAuditEvents,
  findAuditEventIds,
  iterateAuditEvents,
  readAuditHeadSeq,
} from '../../store/audit-store.js';
import type { RequestContext } from '../context.js';
import { resolveIdRef } from '../ids.js';
import { loadOrganization } from '../orgs/org-service.js';
import type { UnitOfWork } from '../unit-of-work.js';
import { encodeEvents, type ExportFormat } from './audit-export.js';
import type { AuditEvent, AuditService } from './audit-service.js';
import type { AuditCheckpoint } from './checkpoint.js';

export interface AuditFilters {
  since?: string | undefined;
  until?: string | undefined;
  targetType?: string | undefined;
  target?: string | undefined;
  eventType?: string | undefined;
  actor?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Cursor of the next (older) page, or null at the oldest event. */
  nextCursor: string | null;
  /** Cursor of the previous (newer) page, or null at the newest. */
  prevCursor: string | null;
}

function encodeCursor(direction: 'older' | 'newer', seq: number): string {
  return Buffer.from(`${direction}:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): { direction: 'older' | 'newer'; seq: number } {
  const [direction, seq] = Buffer.from(cursor, 'base64url').toString().split(':');
  const n = Number(seq);
  if ((direction !== 'older' && direction !== 'newer') || !Number.isInteger(n)) {
    throw invalid('cursor', 'is not a cursor this server issued');
  }
  return { direction, seq: n };
}

/** Reading the audit log: filtered, newest-first pages with cursors both ways, detail, verify. */
export function createAuditQueryService(deps: { uow: UnitOfWork; audit: AuditService }) {
  const { uow, audit } = deps;

  function list(ctx: RequestContext, orgSlug: string, filters: AuditFilters): Promise<AuditPage> {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'audit:read');
      const limit = filters.limit ?? 50;
      const cursor = filters.cursor ? decodeCursor(filters.cursor) : undefined;
      const events = await audit.list(db, {
        orgId: org.id,
        since: filters.since,
        until: filters.until,
        targetType: filters.targetType,
        targetName: filters.target,
        eventType: filters.eventType,
        actor: filters.actor,
        beforeSeq: cursor?.direction === 'older' ? cursor.seq : undefined,
        afterSeq: cursor?.direction === 'newer' ? cursor.seq : undefined,
        limit: limit + 1,
      });
      // One extra row tells whether a further page exists in the direction of travel.
      const more = events.length > limit;
      const page =
        cursor?.direction === 'newer'
          ? events.slice(events.length - Math.min(limit, events.length))
          : events.slice(0, limit);
      const first = page[0];
      const last = page.at(-1);
      const olderExists = cursor?.direction === 'newer' ? true : more;
      const newerExists = cursor?.direction === 'newer' ? more : cursor !== undefined;
      return {
        events: page,
        nextCursor: last && olderExists ? encodeCursor('older', last.seq) : null,
        prevCursor: first && newerExists ? encodeCursor('newer', first.seq) : null,
      };
    });
  }

  /**
   * An event by its id or a unique prefix of it (see `resolveIdRef`; ids are UUIDv7, so events
   * of one minute share their first 8 characters). Throws AUDIT_EVENT_NOT_FOUND,
   * VALIDATION_FAILED and CONFLICT (ambiguous prefix).
   */
  function show(ctx: RequestContext, orgSlug: string, id: string) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'audit:read');
      const event = await resolveIdRef(id, {
        noun: 'audit event',
        exact: async (full) => (await findAuditEventIds(db, org.id, { id: full }, 1))[0],
        byPrefix: (prefix, limit) => findAuditEventIds(db, org.id, { prefix }, limit),
        notFound: () => hushError('AUDIT_EVENT_NOT_FOUND', `audit event ${id} not found`),
      });
      return audit.get(db, org.id, event.id);
    });
  }

  /** Verifies the chain, and with a checkpoint that it still holds the checkpoint's event. */
  function verify(ctx: RequestContext, orgSlug: string, checkpoint?: AuditCheckpoint) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'audit:read');
      return audit.verify(db, org.id, checkpoint);
    });
  }

  /** Signs the verified chain head (same permission as verify); AUDIT_CHAIN_BROKEN if broken. */
  function checkpoint(ctx: RequestContext, orgSlug: string) {
    return uow.read(ctx, async (db) => {
      const org = await loadOrganization(db, ctx, orgSlug, 'audit:read');
      return audit.checkpoint(db, org);
    });
  }

  /**
   * Exports the events matching `filters`, oldest first, as JSON Lines or CSV. The EXPORT event
   * (format, filters, count) is committed before the first byte leaves; the export stops at the
   * head it counted, so it never includes itself and its count is exact.
   */
  async function exportEvents(
    ctx: RequestContext,
    orgSlug: string,
    format: ExportFormat,
    filters: Omit<AuditFilters, 'limit' | 'cursor'>,
  ): Promise<{ count: number; organization: string; chunks: AsyncGenerator<string> }> {
    const { org, filter, count } = await uow.write(ctx, async (trx) => {
      const org = await loadOrganization(trx, ctx, orgSlug, 'audit:read');
      const filter = {
        orgId: org.id,
        since: filters.since,
        until: filters.until,
        targetType: filters.targetType,
        targetName: filters.target,
        eventType: filters.eventType,
        actor: filters.actor,
        throughSeq: await readAuditHeadSeq(trx, org.id),
      };
      const count = await countAuditEvents(trx, filter);
      const applied = Object.fromEntries(
        Object.entries(filters).filter(([, value]) => value !== undefined),
      );
      await audit.append(trx, ctx, {
        orgId: org.id,
        eventType: 'EXPORT',
        targetType: 'organization',
        targetId: org.id,
        targetName: org.slug,
        change: `exported ${count} audit events as ${format}`,
        details: { format, filters: applied, count, throughSeq: filter.throughSeq },
      });
      return { org, filter, count };
    });
    return {
      count,
      organization: org.slug,
      chunks: encodeEvents(iterateAuditEvents(uow.db, filter), format),
    };
  }

  return { list, show, verify, checkpoint, exportEvents };
}

export type AuditQueryService = ReturnType<typeof createAuditQueryService>;
