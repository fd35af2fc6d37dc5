import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

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
 * The previous hash and the event's fields as one JSON array in a fixed order, so that no two
 * different events encode alike (('a','bc') ≠ ('ab','c'), null ≠ 'null').
 */
function encodeEvent(event: ChainedFields, prevHash: string): string {
  // The order is part of the stored data's meaning: never reorder, only append new fields.
  return JSON.stringify([
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
}

/**
 * The unkeyed hash of events written before their chain was keyed: SHA-256 (hex) over
 * the event's encoding. Anyone can recompute it, so it only verifies events older than the
 * head's `keyedFromSeq`; every new event is hashed with {@link computeKeyedEventHash}.
 *
 * @example
 * const hash = computeEventHash(fields, previous?.hash ?? GENESIS_HASH);
 */
export function computeEventHash(event: ChainedFields, prevHash: string): string {
  return createHash('sha256').update(encodeEvent(event, prevHash), 'utf8').digest('hex');
}

/**
 * The keyed hash of an event: HMAC-SHA-256 (hex) under the audit event key over the same
 * encoding as {@link computeEventHash}. Without the key nobody can recompute it, so rewriting an
 * event and re-hashing the rest of the chain no longer verifies.
 *
 * @example
 * const hash = computeKeyedEventHash(keys.event, fields, head.prevHash);
 */
export function computeKeyedEventHash(key: Buffer, event: ChainedFields, prevHash: string): string {
  return createHmac('sha256', key).update(encodeEvent(event, prevHash), 'utf8').digest('hex');
}

/** The fields of a chain head that say how to read its chain, protected by its seal. */
export interface HeadTerms {
  /** First seq hashed with the key; events before it are unkeyed (written before keying). */
  keyedFromSeq: number;
  /** Seq of the last event retention purged (0: none). */
  anchorSeq: number;
  /** Hash of that event ({@link GENESIS_HASH} when none). */
  anchorHash: string;
}

/**
 * The seal of a chain head: HMAC-SHA-256 (hex) under the audit head key over the organization and
 * the head's {@link HeadTerms}. Raising `keyedFromSeq` to pass events re-hashed with plain
 * SHA-256 off as old ones, or moving the anchor to hide events deleted from the front, breaks it.
 */
export function sealHead(key: Buffer, orgId: string, terms: HeadTerms): string {
  const encoded = JSON.stringify([
    'hush-audit-head/1',
    orgId,
    terms.keyedFromSeq,
    terms.anchorSeq,
    terms.anchorHash,
  ]);
  return createHmac('sha256', key).update(encoded, 'utf8').digest('hex');
}

/** Compares two MACs (hex text) in constant time; false when their lengths differ. */
export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Why a link is broken: its own hash (`unkeyed-event`: a plain SHA-256 where the key was due, a
 * downgrade), its link to the previous event, a missing seq, fewer events than the head counts
 * (`tail-truncated`), a head whose hash is not its last event's (`head-mismatch`), a head whose
 * seal does not match its terms or that is missing while events exist, or a checkpoint's event
 * that is gone or has another hash.
 */
export type ChainBreak =
  | 'hash-mismatch'
  | 'unkeyed-event'
  | 'prev-hash-mismatch'
  | 'seq-gap'
  | 'tail-truncated'
  | 'head-mismatch'
  | 'head-seal-mismatch'
  | 'head-missing'
  | 'checkpoint-missing'
  | 'checkpoint-mismatch';

/** Where a chain breaks; `id` is null when the event is missing (or the break is the head's). */
export interface BrokenLink {
  id: string | null;
  seq: number;
  reason: ChainBreak;
}

/** What a verification found of the checkpoint it was given. */
export interface CheckpointFinding {
  seq: number;
  /** `present`: the event is there with the checkpoint's hash; `purged`: retention removed it. */
  status: 'present' | 'purged';
}

/** The outcome of verifying a chain: how many events checked out, and the first broken link. */
export type ChainVerdict =
  | {
      ok: true;
      checked: number;
      lastSeq: number;
      lastHash: string;
      checkpoint?: CheckpointFinding;
    }
  | { ok: false; checked: number; brokenAt: BrokenLink };

/** What a verifier checks one organization's chain against. */
export interface ChainTerms extends Partial<HeadTerms> {
  /** The audit event key that hashes events from `keyedFromSeq` on. */
  key: Buffer;
  /** The head's seq and hash: the last event must be that one (omit for a bare chain). */
  head?: { seq: number; hash: string } | undefined;
  /** A checkpoint's seq and hash that the chain must still hold. */
  checkpoint?: { seq: number; hash: string } | undefined;
}

/** A streaming verifier made by {@link createChainVerifier}. */
export interface ChainVerifier {
  /** Checks the next event (in seq order); returns the verdict at the first broken link. */
  push(e: StoredEvent): ChainVerdict | null;
  /** The verdict: ok with the last seq and hash, or the first broken link (tail checks last). */
  result(): ChainVerdict;
}

/**
 * Makes a constant-memory verifier for one organization's chain, fed event by event in seq order.
 * The first event must follow the anchor (seq `anchorSeq + 1`, linking to `anchorHash`; the
 * genesis when nothing was purged), so an event deleted from the front shows as a gap. Events
 * from `keyedFromSeq` (default 1) on must carry their keyed hash; older ones their plain one.
 * With `head`, the last event must be the head's; with `checkpoint`, the chain must hold it.
 *
 * @example
 * const verifier = createChainVerifier({ key: keys.event, ...terms, head });
 * for await (const e of events) if (verifier.push(e)) break;
 * return verifier.result();
 */
export function createChainVerifier(terms: ChainTerms): ChainVerifier {
  const keyedFromSeq = terms.keyedFromSeq ?? 1;
  const anchorSeq = terms.anchorSeq ?? 0;
  const anchorHash = terms.anchorHash ?? GENESIS_HASH;
  const { key, head, checkpoint } = terms;
  let checked = 0;
  let lastHash = anchorHash;
  let lastSeq = anchorSeq;
  let lastId: string | null = null;
  let broken: ChainVerdict | null = null;

  function check(e: StoredEvent): ChainBreak | null {
    if (e.seq !== lastSeq + 1) return 'seq-gap';
    if (e.prevHash !== lastHash) return 'prev-hash-mismatch';
    if (e.seq < keyedFromSeq) {
      if (!macEquals(computeEventHash(e, e.prevHash), e.hash)) return 'hash-mismatch';
    } else if (!macEquals(computeKeyedEventHash(key, e, e.prevHash), e.hash)) {
      // Only on failure: tell a downgrade (re-hashed without the key) from any other edit.
      return computeEventHash(e, e.prevHash) === e.hash ? 'unkeyed-event' : 'hash-mismatch';
    }
    if (checkpoint && e.seq === checkpoint.seq && e.hash !== checkpoint.hash)
      return 'checkpoint-mismatch';
    return null;
  }

  function tail(): BrokenLink | null {
    if (head && lastSeq < head.seq) return { id: null, seq: lastSeq + 1, reason: 'tail-truncated' };
    if (head && lastHash !== head.hash)
      return { id: lastId, seq: lastSeq, reason: 'head-mismatch' };
    if (checkpoint && checkpoint.seq > lastSeq)
      return { id: null, seq: checkpoint.seq, reason: 'checkpoint-missing' };
    if (checkpoint && checkpoint.seq === anchorSeq && checkpoint.hash !== anchorHash)
      return { id: null, seq: checkpoint.seq, reason: 'checkpoint-mismatch' };
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
      lastId = e.id;
      return null;
    },
    result() {
      if (broken) return broken;
      const brokenAt = tail();
      if (brokenAt) return { ok: false, checked, brokenAt };
      const verdict: ChainVerdict = { ok: true, checked, lastSeq, lastHash };
      if (checkpoint) {
        const status = checkpoint.seq > 0 && checkpoint.seq <= anchorSeq ? 'purged' : 'present';
        verdict.checkpoint = { seq: checkpoint.seq, status };
      }
      return verdict;
    },
  };
}
