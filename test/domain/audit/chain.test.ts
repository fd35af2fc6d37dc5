import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { deriveAuditKeys } from '../../../src/domain/audit/audit-key.js';
import {
  type ChainedFields,
  type ChainTerms,
  computeEventHash,
  computeKeyedEventHash,
  createChainVerifier,
  GENESIS_HASH,
  sealHead,
  type StoredEvent,
} from '../../../src/domain/audit/chain.js';

/** How many generated tamperings the property test runs (quoted in the closing note). */
export const TAMPER_RUNS = 300;

function fieldsOf(seq: number): ChainedFields {
  return {
    id: `e${seq}`,
    orgId: 'org',
    seq,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    eventType: 'CREATE',
    targetType: 'project',
    targetId: `p${seq}`,
    targetName: `proj-${seq}`,
    change: `created proj-${seq}`,
    actor: 'owner@example.com',
    actorId: 'u1',
    tool: 'cli',
    ip: '127.0.0.1',
    details: '{"slug":"proj"}',
  };
}

const KEY = deriveAuditKeys(Buffer.alloc(32, 7)).event;
const OTHER_KEY = deriveAuditKeys(Buffer.alloc(32, 8)).event;

/** How an event is hashed: as the audit service does now, or as it did before keying. */
type Hasher = (f: ChainedFields, prev: string) => string;
const keyed: Hasher = (f, prev) => computeKeyedEventHash(KEY, f, prev);
const unkeyed: Hasher = computeEventHash;

/** Links events in order, each to the previous one's hash, as the audit service does. */
function link(fields: ChainedFields[], prev = GENESIS_HASH, hash: Hasher = keyed): StoredEvent[] {
  return fields.map((f) => {
    const e = { ...f, prevHash: prev, hash: hash(f, prev) };
    prev = e.hash;
    return e;
  });
}

const fieldsUpTo = (n: number) => Array.from({ length: n }, (_, i) => fieldsOf(i + 1));
const chain = (n: number) => link(fieldsUpTo(n));

/** Re-hashes events from index `from` on (after editing one), each linked to the one before. */
function rehashFrom(events: StoredEvent[], from: number, hash: Hasher): StoredEvent[] {
  const prev = from === 0 ? GENESIS_HASH : events[from - 1]!.hash;
  return [...events.slice(0, from), ...link(events.slice(from), prev, hash)];
}

function verify(events: StoredEvent[], terms: Partial<ChainTerms> = {}) {
  const v = createChainVerifier({ key: KEY, ...terms });
  for (const e of events) if (v.push(e)) break;
  return v.result();
}

const headOf = (events: StoredEvent[]) => ({ seq: events.at(-1)!.seq, hash: events.at(-1)!.hash });

type Field = keyof StoredEvent;

/** Every stored field, a way to tamper with it, and the break the verifier must name. */
const TAMPERINGS: [Field, (e: StoredEvent) => StoredEvent, string][] = [
  ['id', (e) => ({ ...e, id: `${e.id}x` }), 'hash-mismatch'],
  ['orgId', (e) => ({ ...e, orgId: 'other' }), 'hash-mismatch'],
  ['seq', (e) => ({ ...e, seq: e.seq + 1000 }), 'seq-gap'],
  ['timestamp', (e) => ({ ...e, timestamp: '2020-01-01T00:00:00.000Z' }), 'hash-mismatch'],
  ['eventType', (e) => ({ ...e, eventType: 'DELETE' }), 'hash-mismatch'],
  ['targetType', (e) => ({ ...e, targetType: 'secret' }), 'hash-mismatch'],
  ['targetId', (e) => ({ ...e, targetId: null }), 'hash-mismatch'],
  ['targetName', (e) => ({ ...e, targetName: `${e.targetName}x` }), 'hash-mismatch'],
  ['change', (e) => ({ ...e, change: `${e.change} ` }), 'hash-mismatch'],
  ['actor', (e) => ({ ...e, actor: 'intruder@example.com' }), 'hash-mismatch'],
  ['actorId', (e) => ({ ...e, actorId: 'null' }), 'hash-mismatch'],
  ['tool', (e) => ({ ...e, tool: 'api' }), 'hash-mismatch'],
  ['ip', (e) => ({ ...e, ip: '10.0.0.1' }), 'hash-mismatch'],
  ['details', (e) => ({ ...e, details: '{"slug":"other"}' }), 'hash-mismatch'],
  ['prevHash', (e) => ({ ...e, prevHash: 'f'.repeat(64) }), 'prev-hash-mismatch'],
  ['hash', (e) => ({ ...e, hash: 'f'.repeat(64) }), 'hash-mismatch'],
];

describe('the keyed audit hash chain', () => {
  it('verifies an intact chain and reports its last seq and hash', () => {
    const events = chain(20);
    expect(verify(events)).toEqual({
      ok: true,
      checked: 20,
      lastSeq: 20,
      lastHash: events[19]!.hash,
    });
  });

  it('verifies an empty chain as the genesis', () => {
    expect(verify([])).toEqual({ ok: true, checked: 0, lastSeq: 0, lastHash: GENESIS_HASH });
  });

  it('covers every stored field', () => {
    expect(TAMPERINGS.map(([f]) => f).sort()).toEqual(Object.keys(chain(1)[0]!).sort());
  });

  it.each(TAMPERINGS)('reports the event whose %s was edited', (_field, tamper, reason) => {
    const events = chain(10);
    const edited = tamper(events[6]!);
    events[6] = edited;
    expect(verify(events)).toEqual({
      ok: false,
      checked: 6,
      brokenAt: { id: edited.id, seq: edited.seq, reason },
    });
  });

  it(`reports any single edit at the edited event (${TAMPER_RUNS} generated cases)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 25 }),
        fc.nat(),
        fc.constantFrom(...TAMPERINGS),
        (n, at, [, tamper]) => {
          const events = chain(n);
          const i = at % n;
          events[i] = tamper(events[i]!);
          const verdict = verify(events);
          expect(verdict.ok).toBe(false);
          expect(verdict.checked).toBe(i);
        },
      ),
      { numRuns: TAMPER_RUNS },
    );
  });

  it('reports a deleted event as a seq gap at the next one', () => {
    const events = chain(10);
    events.splice(4, 1);
    expect(verify(events)).toMatchObject({
      ok: false,
      checked: 4,
      brokenAt: { id: 'e6', seq: 6, reason: 'seq-gap' },
    });
  });

  it('reports a deleted event whose successors were renumbered at the next one', () => {
    const events = chain(10);
    events.splice(4, 1);
    const renumbered = events.map((e, i) => (i >= 4 ? { ...e, seq: e.seq - 1 } : e));
    expect(verify(renumbered)).toMatchObject({
      ok: false,
      checked: 4,
      brokenAt: { id: 'e6', seq: 5, reason: 'prev-hash-mismatch' },
    });
  });

  it('reports the next event when an edited event was re-hashed alone', () => {
    const events = chain(10);
    const forged = { ...events[6]!, change: 'nothing happened' };
    events[6] = { ...forged, hash: computeKeyedEventHash(KEY, forged, forged.prevHash) };
    expect(verify(events)).toMatchObject({
      ok: false,
      checked: 7,
      brokenAt: { id: 'e8', seq: 8, reason: 'prev-hash-mismatch' },
    });
  });

  it.each<[string, Hasher, string]>([
    ['plain SHA-256 (a downgrade)', unkeyed, 'unkeyed-event'],
    ['another key', (f, prev) => computeKeyedEventHash(OTHER_KEY, f, prev), 'hash-mismatch'],
  ])(
    'reports an event rewritten with every later hash recomputed with %s',
    (_label, hash, reason) => {
      const events = chain(10);
      events[6] = { ...events[6]!, change: 'nothing happened' };
      expect(verify(rehashFrom(events, 6, hash), { head: headOf(events) })).toMatchObject({
        ok: false,
        checked: 6,
        brokenAt: { id: 'e7', seq: 7, reason },
      });
    },
  );

  it('verifies events before keyedFromSeq with plain SHA-256 and the rest with the key', () => {
    const old = link(fieldsUpTo(5), GENESIS_HASH, unkeyed);
    const events = [...old, ...link(fieldsUpTo(9).slice(5), old[4]!.hash, keyed)];
    expect(verify(events, { keyedFromSeq: 6, head: headOf(events) })).toMatchObject({
      ok: true,
      checked: 9,
    });
    // The same unkeyed events are refused where the chain says they were keyed.
    expect(verify(events, { keyedFromSeq: 1 })).toMatchObject({
      ok: false,
      brokenAt: { seq: 1, reason: 'unkeyed-event' },
    });
  });

  it('refuses an unkeyed event after keying started, whatever its links', () => {
    const events = link(fieldsUpTo(8), GENESIS_HASH, unkeyed);
    expect(verify(events, { keyedFromSeq: 4 })).toMatchObject({
      ok: false,
      checked: 3,
      brokenAt: { id: 'e4', seq: 4, reason: 'unkeyed-event' },
    });
  });

  it('refuses a first event (seq 1) that does not link to the genesis', () => {
    const [first] = link([fieldsOf(1)], 'a'.repeat(64));
    expect(verify([first!])).toMatchObject({
      ok: false,
      brokenAt: { seq: 1, reason: 'prev-hash-mismatch' },
    });
  });

  it('verifies a purged chain from the anchor, and nowhere else', () => {
    const events = chain(10);
    const kept = events.slice(4);
    expect(verify(kept, { anchorSeq: 4, anchorHash: events[3]!.hash })).toMatchObject({
      ok: true,
      checked: 6,
    });
    expect(verify(kept, { anchorSeq: 4, anchorHash: events[2]!.hash })).toMatchObject({
      ok: false,
      checked: 0,
      brokenAt: { seq: 5, reason: 'prev-hash-mismatch' },
    });
    // Without the anchor, events missing from the front are a gap.
    expect(verify(kept)).toMatchObject({ ok: false, brokenAt: { seq: 5, reason: 'seq-gap' } });
  });

  it('still checks the first kept event’s own hash', () => {
    const events = chain(10);
    const kept = events.slice(4);
    kept[0] = { ...kept[0]!, actor: 'intruder@example.com' };
    expect(verify(kept, { anchorSeq: 4, anchorHash: events[3]!.hash })).toMatchObject({
      ok: false,
      brokenAt: { seq: 5, reason: 'hash-mismatch' },
    });
  });

  it('reports the first missing seq when the last events were deleted but the head counts them', () => {
    const events = chain(10);
    expect(verify(events.slice(0, 7), { head: headOf(events) })).toEqual({
      ok: false,
      checked: 7,
      brokenAt: { id: null, seq: 8, reason: 'tail-truncated' },
    });
    expect(verify([], { head: headOf(events) })).toMatchObject({
      brokenAt: { id: null, seq: 1, reason: 'tail-truncated' },
    });
  });

  it('reports a head whose hash is not the last event’s', () => {
    const events = chain(5);
    expect(verify(events, { head: { seq: 5, hash: 'f'.repeat(64) } })).toMatchObject({
      ok: false,
      checked: 5,
      brokenAt: { id: 'e5', seq: 5, reason: 'head-mismatch' },
    });
  });

  it('keeps answering with the first broken link after it', () => {
    const events = chain(5);
    events[1] = { ...events[1]!, hash: 'f'.repeat(64) };
    const v = createChainVerifier({ key: KEY });
    const verdicts = events.map((e) => v.push(e));
    expect(verdicts[0]).toBeNull();
    expect(verdicts[4]).toEqual(verdicts[1]);
    expect(v.result()).toMatchObject({ ok: false, checked: 1, brokenAt: { seq: 2 } });
  });

  describe('against a checkpoint', () => {
    const events = chain(10);
    const at = (i: number) => ({ seq: events[i]!.seq, hash: events[i]!.hash });

    it('finds the checkpoint’s event with its hash', () => {
      expect(verify(events, { checkpoint: at(5) })).toMatchObject({
        ok: true,
        checkpoint: { seq: 6, status: 'present' },
      });
    });

    it('reports a checkpoint whose event has another hash', () => {
      expect(verify(events, { checkpoint: { seq: 6, hash: 'a'.repeat(64) } })).toMatchObject({
        ok: false,
        checked: 5,
        brokenAt: { id: 'e6', seq: 6, reason: 'checkpoint-mismatch' },
      });
    });

    it('reports a checkpoint beyond the chain (its head rolled back with the tail)', () => {
      const cut = events.slice(0, 5);
      expect(verify(cut, { head: headOf(cut), checkpoint: at(7) })).toEqual({
        ok: false,
        checked: 5,
        brokenAt: { id: null, seq: 8, reason: 'checkpoint-missing' },
      });
    });

    it('accepts a checkpoint before the anchor as purged, and checks one at the anchor', () => {
      const kept = events.slice(6);
      const anchor = { anchorSeq: 6, anchorHash: events[5]!.hash };
      expect(verify(kept, { ...anchor, checkpoint: at(2) })).toMatchObject({
        ok: true,
        checkpoint: { seq: 3, status: 'purged' },
      });
      expect(verify(kept, { ...anchor, checkpoint: at(5) })).toMatchObject({ ok: true });
      expect(
        verify(kept, { ...anchor, checkpoint: { seq: 6, hash: 'a'.repeat(64) } }),
      ).toMatchObject({ ok: false, brokenAt: { seq: 6, reason: 'checkpoint-mismatch' } });
    });
  });

  // targetId and targetName are adjacent in the encoding: the place a naive join would blur.
  it.each<[string | null, string | null, string | null, string | null]>([
    ['a', 'bc', 'ab', 'c'],
    ['a","b', 'c', 'a', 'b","c'],
    ['a', null, 'a', 'null'],
    [null, '', '', null],
  ])('encodes (%j, %j) and (%j, %j) differently', (id1, name1, id2, name2) => {
    const base = fieldsOf(1);
    const hashOf = (targetId: string | null, targetName: string | null) =>
      computeKeyedEventHash(KEY, { ...base, targetName, targetId }, GENESIS_HASH);
    expect(hashOf(id1, name1)).not.toBe(hashOf(id2, name2));
  });

  it('keeps both encodings stable, so chains already stored still verify', () => {
    expect(computeEventHash(fieldsOf(1), GENESIS_HASH)).toBe(GOLDEN_HASH);
    expect(computeKeyedEventHash(KEY, fieldsOf(1), GENESIS_HASH)).toBe(GOLDEN_KEYED_HASH);
  });
});

describe('the seal of a chain head', () => {
  const keys = deriveAuditKeys(Buffer.alloc(32, 7));
  const terms = { keyedFromSeq: 12, anchorSeq: 3, anchorHash: 'b'.repeat(64) };

  it.each([
    ['keyedFromSeq', { ...terms, keyedFromSeq: 13 }],
    ['anchorSeq', { ...terms, anchorSeq: 4 }],
    ['anchorHash', { ...terms, anchorHash: 'c'.repeat(64) }],
  ])('changes with %s', (_field, moved) => {
    expect(sealHead(keys.head, 'org', moved)).not.toBe(sealHead(keys.head, 'org', terms));
  });

  it('is bound to the organization and the key', () => {
    const seal = sealHead(keys.head, 'org', terms);
    expect(sealHead(keys.head, 'other', terms)).not.toBe(seal);
    expect(sealHead(deriveAuditKeys(Buffer.alloc(32, 8)).head, 'org', terms)).not.toBe(seal);
  });

  it('comes from keys derived apart, one per purpose', () => {
    const hex = [keys.event, keys.head, keys.checkpoint].map((k) => k.toString('hex'));
    expect(new Set(hex).size).toBe(3);
    expect(deriveAuditKeys(Buffer.alloc(32, 7))).toEqual(keys);
    expect(keys.id).toMatch(/^ak_[0-9a-f]{16}$/);
  });
});

// Pinned by the first release of each encoding: changing one breaks every stored chain.
const GOLDEN_HASH = 'c75e14aa07c7b3b59c12342f4bf9bb03be126b0fbc4d18a6e7b8be5ddee291fa';
const GOLDEN_KEYED_HASH = '6061375d3e56f3c0356af6e042fb78afece7ee4c24e187c6c5ec592161eae2df';
