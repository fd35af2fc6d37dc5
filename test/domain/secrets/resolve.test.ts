import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type Level,
  LEVELS,
  type ResolvableSecret,
  resolveSecrets,
} from '../../../src/domain/secrets/resolve.js';

/** How many generated cases the property test runs (quoted in the closing note). */
export const PROPERTY_RUNS = 2000;

// The reference model: SPEC §2's order written out in full, highest first.
const ORDER: [Level, boolean][] = [
  ['service', true],
  ['service', false],
  ['environment', true],
  ['environment', false],
  ['project', true],
  ['project', false],
  ['organization', true],
  ['organization', false],
];

const keyOf = (c: ResolvableSecret) => `${c.namespace}:${c.name}`;

/** The visible candidates of one key, best first: walk ORDER and take what is present. */
function referenceRanking(candidates: ResolvableSecret[], member: string | null, key: string) {
  const visible = candidates.filter(
    (c) => keyOf(c) === key && (c.assigneeId === null || c.assigneeId === member),
  );
  return ORDER.flatMap(([level, mine]) =>
    visible.filter((c) => c.level === level && (c.assigneeId !== null) === mine),
  );
}

const MEMBERS = [null, 'alice', 'bob'] as const;

const secretArb = fc.record({
  namespace: fc.constantFrom('env' as const, 'pgservice' as const),
  name: fc.constantFrom('A', 'B', 'ninja'),
  level: fc.constantFrom(...LEVELS),
  assigneeId: fc.constantFrom(null, 'alice', 'bob', 'carol'),
});

// The database forbids two secrets with the same (level, scope, name, assignee); so do we.
const setArb = fc
  .uniqueArray(secretArb, {
    selector: (s) => `${s.namespace}:${s.name}:${s.level}:${s.assigneeId}`,
    maxLength: 40,
  })
  .map((list) => list.map((s, i) => ({ ...s, id: `s${i}`, version: 1 })));

const s = (
  id: string,
  level: Level,
  assigneeId: string | null = null,
  namespace: 'env' | 'pgservice' = 'pgservice',
  name = 'ninja',
): ResolvableSecret => ({ id, namespace, name, level, assigneeId, version: 1 });

describe('resolveSecrets', () => {
  it(`agrees with the reference model on ${PROPERTY_RUNS} generated contexts`, () => {
    fc.assert(
      fc.property(setArb, fc.constantFrom(...MEMBERS), (candidates, member) => {
        const resolved = resolveSecrets(candidates, member);
        const visibleKeys = new Set(
          candidates.filter((c) => c.assigneeId === null || c.assigneeId === member).map(keyOf),
        );
        expect(resolved.map((r) => r.key)).toEqual([...visibleKeys].sort());
        for (const r of resolved) {
          const [best, ...rest] = referenceRanking(candidates, member, r.key);
          expect(r.winner).toBe(best);
          expect(r.shadows).toEqual(rest);
        }
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  it('follows QFieldCloud: project+member > project > organization+member > organization', () => {
    const all = [
      s('org', 'organization'),
      s('org-a', 'organization', 'alice'),
      s('proj', 'project'),
      s('proj-a', 'project', 'alice'),
    ];
    for (let kept = 1; kept <= all.length; kept++) {
      const present = all.slice(0, kept);
      expect(resolveSecrets(present, 'alice')[0]?.winner.id).toBe(present.at(-1)?.id);
    }
  });

  it('puts the full order service+member > … > organization first to last', () => {
    const all = ORDER.map(([level, mine]) =>
      s(`${level}${mine ? '+a' : ''}`, level, mine ? 'alice' : null),
    );
    const [r] = resolveSecrets([...all].reverse(), 'alice');
    expect([r?.winner.id, ...(r?.shadows.map((x) => x.id) ?? [])]).toEqual(all.map((x) => x.id));
  });

  it('lists the shadowed secrets best first', () => {
    const r = resolveSecrets(
      [s('org', 'organization'), s('env', 'environment'), s('proj-a', 'project', 'alice')],
      'alice',
    );
    expect(r[0]?.winner.id).toBe('env');
    expect(r[0]?.shadows.map((x) => x.id)).toEqual(['proj-a', 'org']);
  });

  it('hides secrets assigned to other members, even from the shadows', () => {
    const r = resolveSecrets(
      [s('org', 'organization'), s('proj-a', 'project', 'alice'), s('svc-a', 'service', 'alice')],
      'bob',
    );
    expect(r).toHaveLength(1);
    expect(r[0]?.winner.id).toBe('org');
    expect(r[0]?.shadows).toEqual([]);
  });

  it('gives a service token (no member) only unassigned secrets', () => {
    const r = resolveSecrets(
      [
        s('svc-a', 'service', 'alice'),
        s('org', 'organization'),
        s('only-a', 'project', 'alice', 'env', 'X'),
      ],
      null,
    );
    expect(r.map((x) => [x.key, x.winner.id, x.shadows.length])).toEqual([
      ['pgservice:ninja', 'org', 0],
    ]);
  });

  it('resolves an env variable and a pg service of the same name separately', () => {
    const r = resolveSecrets([s('pg', 'project'), s('env', 'organization', null, 'env')], null);
    expect(r.map((x) => [x.key, x.winner.id])).toEqual([
      ['env:ninja', 'env'],
      ['pgservice:ninja', 'pg'],
    ]);
  });

  it('returns nothing for no candidates', () => {
    expect(resolveSecrets([], 'alice')).toEqual([]);
  });
});
