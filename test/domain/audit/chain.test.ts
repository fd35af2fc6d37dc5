import { describe, expect, it } from 'vitest';

import {
  type ChainedFields,
  computeEventHash,
  createChainVerifier,
  GENESIS_HASH,
  type StoredEvent,
} from '../../../src/domain/audit/chain.js';

function chain(n: number): StoredEvent[] {
  const out: StoredEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const fields: ChainedFields = {
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
      details: '{}',
    };
    const hash = computeEventHash(fields, prev);
    out.push({ ...fields, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

function verify(events: StoredEvent[]) {
  const v = createChainVerifier();
  for (const e of events) if (v.push(e)) break;
  return v.result();
}

const FIELDS: (keyof ChainedFields)[] = [
  'id',
  'orgId',
  'timestamp',
  'eventType',
  'targetType',
  'targetId',
  'targetName',
  'change',
  'actor',
  'actorId',
  'tool',
  'ip',
  'details',
];

describe('the audit hash chain', () => {
  it('verifies an intact chain', () => {
    expect(verify(chain(20))).toMatchObject({ ok: true, checked: 20 });
  });

  it.each(FIELDS)('reports the event whose %s was edited', (field) => {
    const events = chain(10);
    events[6] = { ...events[6]!, [field]: 'tampered' };
    expect(verify(events)).toMatchObject({
      ok: false,
      brokenAt: { seq: 7, reason: 'hash-mismatch' },
    });
  });

  it('reports a deleted event at the next one', () => {
    const events = chain(10);
    events.splice(4, 1);
    expect(verify(events)).toMatchObject({ ok: false, brokenAt: { seq: 6, reason: 'seq-gap' } });
  });

  it('reports a re-linked chain whose hashes were recomputed after the edit point', () => {
    const events = chain(5);
    events[2] = { ...events[2]!, prevHash: 'f'.repeat(64) };
    expect(verify(events)).toMatchObject({
      ok: false,
      brokenAt: { seq: 3, reason: 'prev-hash-mismatch' },
    });
  });

  it('still verifies from the first kept event after the oldest were purged', () => {
    expect(verify(chain(10).slice(4))).toMatchObject({ ok: true, checked: 6 });
  });

  it('encodes fields unambiguously', () => {
    const [e] = chain(1);
    const a = computeEventHash({ ...e!, targetName: 'a', change: 'bc' }, GENESIS_HASH);
    const b = computeEventHash({ ...e!, targetName: 'ab', change: 'c' }, GENESIS_HASH);
    expect(a).not.toBe(b);
  });
});
