import { createHash } from 'node:crypto';

/** The fields of an audit event that its hash covers, in their stored form. */
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

/** An audit event as stored: its fields plus the two chain links. */
export interface StoredEvent extends ChainedFields {
  prevHash: string;
  hash: string;
}

/** The `prevHash` of an organization's first event (seq 1): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * SHA-256 (hex) over the previous hash and the event's fields as one JSON array in a fixed order,
 * so that no two different events encode alike (('a','bc') ≠ ('ab','c'), null ≠ 'null').
 *
 * @example
 * const hash = computeEventHash(fields, previous?.hash ?? GENESIS_HASH);
 */
export function computeEventHash(event: ChainedFields, prevHash: string): string {
  // The order is part of the stored data's meaning: never reorder, only append new fields.
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
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

/** Why a link is broken: its own hash, its link to the previous event, or a missing seq. */
export type ChainBreak = 'hash-mismatch' | 'prev-hash-mismatch' | 'seq-gap';

/** The outcome of verifying a chain: how many events checked out, and the first broken link. */
export type ChainVerdict =
  | { ok: true; checked: number; lastHash: string }
  | { ok: false; checked: number; brokenAt: { id: string; seq: number; reason: ChainBreak } };

/** A streaming verifier made by {@link createChainVerifier}. */
export interface ChainVerifier {
  /** Checks the next event (in seq order); returns the verdict at the first broken link. */
  push(e: StoredEvent): ChainVerdict | null;
  /** The verdict so far: ok with the last hash, or the first broken link. */
  result(): ChainVerdict;
}

/**
 * Makes a constant-memory verifier for one organization's chain, fed event by event in seq order;
 * without `startPrevHash` the first event's prevHash is the anchor (so a chain whose oldest events
 * retention purged still verifies from the first kept one), except that seq 1 must link to
 * {@link GENESIS_HASH}. With `startSeq` (the seq of the event `startPrevHash` is the hash of, e.g.
 * the last one retention purged) the first event must also be the next seq: a kept event deleted
 * from the front of the chain shows as a gap.
 *
 * @example
 * const verifier = createChainVerifier();
 * for await (const e of events) if (verifier.push(e)) break;
 * return verifier.result();
 */
export function createChainVerifier(startPrevHash?: string, startSeq?: number): ChainVerifier {
  let checked = 0;
  let lastHash = startPrevHash;
  let lastSeq = startSeq;
  let broken: ChainVerdict | null = null;

  function expectedPrevHash(e: StoredEvent): string | undefined {
    if (lastHash !== undefined) return lastHash;
    return e.seq === 1 ? GENESIS_HASH : undefined;
  }

  function check(e: StoredEvent): ChainBreak | null {
    if (lastSeq !== undefined && e.seq !== lastSeq + 1) return 'seq-gap';
    const expected = expectedPrevHash(e);
    if (expected !== undefined && e.prevHash !== expected) return 'prev-hash-mismatch';
    if (computeEventHash(e, e.prevHash) !== e.hash) return 'hash-mismatch';
    return null;
  }

  return {
    push(e) {
      if (broken) return broken;
      const reason = check(e);
      if (reason) {
        broken = { ok: false, checked, brokenAt: { id: e.id, seq: e.seq, reason } };
        return broken;
      }
      checked += 1;
      lastHash = e.hash;
      lastSeq = e.seq;
      return null;
    },
    result() {
      return broken ?? { ok: true, checked, lastHash: lastHash ?? GENESIS_HASH };
    },
  };
}
