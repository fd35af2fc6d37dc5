import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  MAX_CANDIDATES,
  osaDistance,
  relativeThreshold,
  suggestNames,
} from '../../src/domain/suggest.js';

/** The textbook optimal string alignment distance, the whole table, no shortcuts. */
function referenceOsa(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

describe('osaDistance', () => {
  it.each([
    ['maps', 'maps', 0],
    ['mapz', 'maps', 1],
    ['mpas', 'maps', 1],
    ['map', 'maps', 1],
    ['', 'abc', 3],
    ['ca', 'abc', 3],
    ['staging', 'stagign', 1],
  ])('counts %j → %j as %i edits', (a, b, expected) => {
    expect(osaDistance(a, b)).toBe(expected);
  });

  it('agrees with the full table, and stops at bound + 1 when it is further', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), maxLength: 9 });
    fc.assert(
      fc.property(text, text, fc.nat(6), (a, b, bound) => {
        const exact = referenceOsa(a, b);
        expect(osaDistance(a, b)).toBe(exact);
        expect(osaDistance(a, b, bound)).toBe(Math.min(exact, bound + 1));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('suggestNames', () => {
  const projects = ['maps', 'billing', 'web', 'website', 'api-gateway'];

  it('suggests the project one edit away from a misspelt slug', () => {
    expect(suggestNames('mapz', projects)).toEqual(['maps']);
    expect(suggestNames('bilings', projects)).toEqual(['billing']);
  });

  it('counts a transposed pair as one edit', () => {
    expect(suggestNames('stagign', ['staging', 'production'])).toEqual(['staging']);
  });

  it('allows a third of the length in edits, at least one', () => {
    expect(relativeThreshold(2)).toBe(1);
    expect(relativeThreshold(6)).toBe(2);
    expect(suggestNames('ab', ['xy'])).toEqual([]);
    expect(suggestNames('ab', ['ax'])).toEqual(['ax']);
    expect(suggestNames('abcdef', ['abcxyf'])).toEqual(['abcxyf']);
    expect(suggestNames('abcdef', ['axcxyf'])).toEqual([]);
  });

  it('ranks a difference of case only first, then by distance, then by name', () => {
    const names = ['mqpsxq', 'mapxxy', 'mapsxy', 'mapsx'];
    expect(suggestNames('Mapsxy', names, 4)).toEqual(['mapsxy', 'mapsx', 'mapxxy', 'mqpsxq']);
    expect(suggestNames('MAPS', ['maps'])).toEqual(['maps']);
  });

  it('compares without regard to case and returns the names as they are', () => {
    expect(suggestNames('mapz', ['Maps'])).toEqual(['Maps']);
  });

  it('suggests the one name a prefix starts, and none when several start with it', () => {
    expect(suggestNames('prod', ['production', 'staging'])).toEqual(['production']);
    expect(suggestNames('prod', ['production', 'prodigy'])).toEqual([]);
    expect(suggestNames('prod', ['production', 'production'])).toEqual(['production']);
    // A close name still ranks before the prefix match.
    expect(suggestNames('web', ['website', 'wen'])).toEqual(['wen', 'website']);
  });

  it('never suggests the name itself, nor the same name twice', () => {
    expect(suggestNames('maps', ['maps'])).toEqual([]);
    expect(suggestNames('mapz', ['maps', 'maps'])).toEqual(['maps']);
  });

  it('returns at most `max` names', () => {
    const many = ['mapa', 'mapb', 'mapc', 'mapd', 'mape'];
    expect(suggestNames('mapz', many)).toEqual(['mapa', 'mapb', 'mapc']);
    expect(suggestNames('mapz', many, 1)).toEqual(['mapa']);
    expect(suggestNames('mapz', many, 0)).toEqual([]);
  });

  it('answers the same whatever the order of the candidates', () => {
    const names = ['mapa', 'mapb', 'maps', 'mbps', 'Mapz2', 'mapzz'];
    const expected = suggestNames('mapz', names, 10);
    fc.assert(
      fc.property(fc.shuffledSubarray(names, { minLength: names.length }), (shuffled) => {
        expect(suggestNames('mapz', shuffled, 10)).toEqual(expected);
      }),
    );
  });

  it('suggests nothing for an empty or an overlong name', () => {
    expect(suggestNames('', ['a'])).toEqual([]);
    expect(suggestNames('x'.repeat(300), ['x'.repeat(299)])).toEqual([]);
  });

  it(`compares at most ${MAX_CANDIDATES} candidates, and reads no further`, () => {
    let read = 0;
    function* endless() {
      for (;;) {
        read++;
        yield read === MAX_CANDIDATES + 1 ? 'maps' : `other-${read}`;
      }
    }
    expect(suggestNames('mapz', endless())).toEqual([]);
    expect(read).toBe(MAX_CANDIDATES + 1);
  });

  it('answers among thousands of look-alike e-mails in well under a tenth of a second', () => {
    const emails = Array.from(
      { length: MAX_CANDIDATES },
      (_, i) => `person.${i.toString(36)}.${'x'.repeat(i % 40)}@example.com`,
    );
    expect(suggestNames('person.zz.xxx@exmaple.com', emails)).toHaveLength(3);
    const started = performance.now();
    for (let i = 0; i < 10; i++) suggestNames('person.zz.xxx@exmaple.com', emails);
    expect((performance.now() - started) / 10).toBeLessThan(100);
  });
});
