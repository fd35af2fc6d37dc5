import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type ChainedFields,
  computeEventHash,
  createChainVerifier,
  GENESIS_HASH,
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

/** Links events in order, each to the previous one's hash, as the audit service does. */
function link(fields: ChainedFields[], prev = GENESIS_HASH): StoredEvent[] {
  return fields.map((f) => {
    const e = { ...f, prevHash: prev, hash: computeEventHash(f, prev) };
    prev = e.hash;
    return e;
  });
}

const chain = (n: number) => link(Array.from({ length: n }, (_, i) => fieldsOf(i + 1)));

function verify(events: StoredEvent[], startPrevHash?: string) {
  const v = createChainVerifier(startPrevHash);
  for (const e of events) if (v.push(e)) break;
  return v.result();
}

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

describe('the audit hash chain', () => {
  it('verifies an intact chain and reports its last hash', () => {
    const events = chain(20);
    expect(verify(events)).toEqual({ ok: true, checked: 20, lastHash: events[19]!.hash });
  });

  it('verifies an empty chain as the genesis', () => {
    expect(verify([])).toEqual({ ok: true, checked: 0, lastHash: GENESIS_HASH });
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

  it('reports the next event when an edited event was re-hashed', () => {
    const events = chain(10);
    const forged = { ...events[6]!, change: 'nothing happened' };
    events[6] = { ...forged, hash: computeEventHash(forged, forged.prevHash) };
    expect(verify(events)).toMatchObject({
      ok: false,
      checked: 7,
      brokenAt: { id: 'e8', seq: 8, reason: 'prev-hash-mismatch' },
    });
  });

  it('refuses a first event (seq 1) that does not link to the genesis', () => {
    const [first] = link([fieldsOf(1)], 'a'.repeat(64));
    expect(verify([first!])).toMatchObject({
      ok: false,
      brokenAt: { seq: 1, reason: 'prev-hash-mismatch' },
    });
  });

  it('still verifies from the first kept event after the oldest were purged', () => {
    const events = chain(10);
    expect(verify(events.slice(4))).toEqual({ ok: true, checked: 6, lastHash: events[9]!.hash });
  });

  it('checks a purged chain against a known anchor when one is given', () => {
    const events = chain(10);
    expect(verify(events.slice(4), events[3]!.hash)).toMatchObject({ ok: true, checked: 6 });
    expect(verify(events.slice(4), events[2]!.hash)).toMatchObject({
      ok: false,
      checked: 0,
      brokenAt: { seq: 5, reason: 'prev-hash-mismatch' },
    });
  });

  it('still checks the first kept event’s own hash', () => {
    const events = chain(10).slice(4);
    events[0] = { ...events[0]!, actor: 'intruder@example.com' };
    expect(verify(events)).toMatchObject({
      ok: false,
      brokenAt: { seq: 5, reason: 'hash-mismatch' },
    });
  });

  it('keeps answering with the first broken link after it', () => {
    const events = chain(5);
    events[1] = { ...events[1]!, hash: 'f'.repeat(64) };
    const v = createChainVerifier();
    const verdicts = events.map((e) => v.push(e));
    expect(verdicts[0]).toBeNull();
    expect(verdicts[4]).toEqual(verdicts[1]);
    expect(v.result()).toMatchObject({ ok: false, checked: 1, brokenAt: { seq: 2 } });
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
      computeEventHash({ ...base, targetName, targetId }, GENESIS_HASH);
    expect(hashOf(id1, name1)).not.toBe(hashOf(id2, name2));
  });

  it('keeps the encoding stable, so chains already stored still verify', () => {
    expect(computeEventHash(fieldsOf(1), GENESIS_HASH)).toBe(GOLDEN_HASH);
  });
});

// Pinned by the first release of the encoding: changing it breaks every stored chain.
const GOLDEN_HASH = 'c75e14aa07c7b3b59c12342f4bf9bb03be126b0fbc4d18a6e7b8be5ddee291fa';
