import { type Expression, sql, type SqlBool } from 'kysely';

const HEX = '0123456789abcdef';

/**
 * The least string of the same shape above every id that starts with `prefix` (lower-case hex
 * digits and `-`, ending in a digit): the prefix plus one in hex, hyphens kept in place
 * (`576c2f` → `576c30`, `57-ff` → `58-00`), or null for a prefix of only `f`s, which has none.
 * Only hex digits and hyphens where ids have them, so every collation orders the bounds as it
 * orders ids: `prefix + '\uffff'` or a `:` after a `9` sort elsewhere under linguistic ones.
 */
export function idPrefixUpperBound(prefix: string): string | null {
  const chars = [...prefix];
  for (let i = chars.length - 1; i >= 0; i--) {
    const digit = HEX.indexOf(chars[i]!);
    if (digit < 0) continue; // a hyphen: carry past it
    if (digit < 15) {
      chars[i] = HEX[digit + 1]!;
      return chars.join('');
    }
    chars[i] = '0';
  }
  return null;
}

/**
 * A condition: `column` starts with `prefix`, a lower-case id prefix as `parseIdRef` (in
 * `domain/ids.ts`) returns it. A range, `column >= prefix and column < upper bound`, which the
 * primary-key index answers on SQLite and PostgreSQL alike (`LIKE` uses it on neither: SQLite's is
 * case-insensitive, PostgreSQL's needs a `text_pattern_ops` index outside the C collation), and an
 * exact comparison of the leading characters, so an id of another shape that the range lets in
 * is still left out. No pattern is involved: `%` and `_` are never wildcards.
 *
 * @example db.selectFrom('jobs').selectAll().where(idStartsWith('jobs.id', '576c2f96'))
 */
export function idStartsWith(column: string, prefix: string): Expression<SqlBool> {
  const ref = sql.ref(column);
  const upper = idPrefixUpperBound(prefix);
  const below = upper === null ? sql`` : sql` and ${ref} < ${upper}`;
  return sql<SqlBool>`(${ref} >= ${prefix}${below} and substr(${ref}, 1, ${sql.lit(prefix.length)}) = ${prefix})`;
}
