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

function referenceWinner(candidates: ResolvableSecret[], member: string | null, key: string) {
  const visible = candidates.filter(
    (c) => `${c.namespace}:${c.name}` === key && (c.assigneeId === null || c.assigneeId === member),
  );
  for (const [level, mine] of ORDER) {
    const hit = visible.find((c) => c.level === level && (c.assigneeId !== null) === mine);
    if (hit) return hit;
  }
  return undefined;
}

const secretArb = fc.record({
  namespace: fc.constantFrom('env' as const, 'pgservice' as const),
  name: fc.constantFrom('A', 'B', 'ninja'),
  level: fc.constantFrom(...LEVELS),
  assigneeId: fc.constantFrom(null, 'alice', 'bob'),
});

// Uniqueness of (level, name, assignee) holds in the database, so generated sets respect it too.
const setArb = fc
  .uniqueArray(secretArb, {
    selector: (s) => `${s.namespace}:${s.name}:${s.level}:${s.assigneeId}`,
    maxLength: 30,
  })
  .map((list) => list.map((s, i) => ({ ...s, id: `s${i}`, version: 1 })));

describe('resolveSecrets', () => {
  it(`agrees with the reference model on ${PROPERTY_RUNS} generated contexts`, () => {
    fc.assert(
      fc.property(setArb, fc.constantFrom(null, 'alice', 'bob'), (candidates, member) => {
        const resolved = resolveSecrets(candidates, member);
        const keys = new Set(
          candidates
            .filter((c) => c.assigneeId === null || c.assigneeId === member)
            .map((c) => `${c.namespace}:${c.name}`),
        );
        expect(resolved.map((r) => r.key)).toEqual([...keys].sort());
        for (const r of resolved) {
          expect(r.winner).toBe(referenceWinner(candidates, member, r.key));
          expect(r.shadows.every((s) => s.assigneeId === null || s.assigneeId === member)).toBe(
            true,
          );
          expect(r.shadows.length + 1).toBe(
            candidates.filter(
              (c) =>
                `${c.namespace}:${c.name}` === r.key &&
                (c.assigneeId === null || c.assigneeId === member),
            ).length,
          );
        }
      }),
      { numRuns: PROPERTY_RUNS },
    );
  });

  const s = (
    id: string,
    level: Level,
    assigneeId: string | null = null,
    namespace: 'env' | 'pgservice' = 'pgservice',
  ): ResolvableSecret => ({
    id,
    namespace,
    name: 'ninja',
    level,
    assigneeId,
    version: 1,
  });

  it('follows QFieldCloud: project+member > project > organization+member > organization', () => {
    const all = [
      s('org', 'organization'),
      s('org-a', 'organization', 'alice'),
      s('proj', 'project'),
      s('proj-a', 'project', 'alice'),
    ];
    for (let drop = 0; drop < all.length; drop++) {
      const present = all.slice(0, all.length - drop);
      expect(resolveSecrets(present, 'alice')[0]?.winner.id).toBe(present.at(-1)?.id);
    }
    expect(resolveSecrets(all, 'alice')[0]?.shadows.map((x) => x.id)).toEqual([
      'proj',
      'org-a',
      'org',
    ]);
  });

  it('hides secrets assigned to other members', () => {
    const r = resolveSecrets([s('org', 'organization'), s('proj-a', 'project', 'alice')], 'bob');
    expect(r[0]?.winner.id).toBe('org');
    expect(r[0]?.shadows).toEqual([]);
  });

  it('gives a service token (no member) only unassigned secrets', () => {
    expect(resolveSecrets([s('a', 'service', 'alice')], null)).toEqual([]);
  });

  it('resolves an env variable and a pg service of the same name separately', () => {
    const r = resolveSecrets([s('pg', 'project'), s('env', 'organization', null, 'env')], null);
    expect(r.map((x) => [x.key, x.winner.id])).toEqual([
      ['env:ninja', 'env'],
      ['pgservice:ninja', 'pg'],
    ]);
  });
});
