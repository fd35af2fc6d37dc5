import { createHash } from 'node:crypto';

/** The fields of an event that its hash covers, in their stored form. */
export interface ChainedFields {
  id: string;
  orgId: string;
  seq: number;
  timestamp: string;
  eventType: string;
  targetType: string;
  targetId: string | null;
  targetName: string | null;
  change: string;
  actor: string;
  actorId: string | null;
  tool: string;
  ip: string | null;
  /** JSON text as stored. */
  details: string;
}

/** An event as stored: its fields plus the chain links. */
export interface StoredEvent extends ChainedFields {
  prevHash: string;
  hash: string;
}

/** The `prevHash` of an organization's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * SHA-256 (hex) over an unambiguous encoding of the event and the previous hash: a JSON array
 * in fixed order, so ('a','bc') and ('ab','c') never collide.
 */
export function computeEventHash(event: ChainedFields, prevHash: string): string {
  const encoded = JSON.stringify([
    prevHash,
    event.id,
    event.orgId,
    event.seq,
    event.timestamp,
    event.eventType,
    event.targetType,
    event.targetId,
    event.targetName,
    event.change,
    event.actor,
    event.actorId,
    event.tool,
    event.ip,
    event.details,
  ]);
  return createHash('sha256').update(encoded).digest('hex');
}

export type ChainVerdict =
  | { ok: true; checked: number; lastHash: string }
  | {
      ok: false;
      checked: number;
      brokenAt: {
        id: string;
        seq: number;
        reason: 'hash-mismatch' | 'prev-hash-mismatch' | 'seq-gap';
      };
    };

/**
 * A streaming verifier (constant memory): push events in seq order; the first broken link is
 * returned from `push`. Without `startPrevHash`, the first event's prevHash is the anchor, so a
 * chain whose oldest events were purged by retention still verifies from the first kept one.
 */
export function createChainVerifier(startPrevHash?: string) {
  let checked = 0;
  let lastHash = startPrevHash;
  let lastSeq: number | undefined;
  let broken: ChainVerdict | null = null;

  function fail(
    e: StoredEvent,
    reason: 'hash-mismatch' | 'prev-hash-mismatch' | 'seq-gap',
  ): ChainVerdict {
    broken = { ok: false, checked, brokenAt: { id: e.id, seq: e.seq, reason } };
    return broken;
  }

  return {
    push(e: StoredEvent): ChainVerdict | null {
      if (broken) return broken;
      if (lastSeq !== undefined && e.seq !== lastSeq + 1) return fail(e, 'seq-gap');
      if (lastHash !== undefined && e.prevHash !== lastHash) return fail(e, 'prev-hash-mismatch');
      if (computeEventHash(e, e.prevHash) !== e.hash) return fail(e, 'hash-mismatch');
      checked += 1;
      lastHash = e.hash;
      lastSeq = e.seq;
      return null;
    },
    result(): ChainVerdict {
      return broken ?? { ok: true, checked, lastHash: lastHash ?? GENESIS_HASH };
    },
  };
}
