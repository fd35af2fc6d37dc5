import { type Compilable, CompiledQuery, type Kysely } from 'kysely';

import type { Schema } from './schema.js';

type Param = string | number | null;

interface Template {
  sql: string;
  /** Per compiled parameter: the argument it takes, or a constant of the query. */
  slots: ({ arg: string } | { value: unknown })[];
}

const SENTINEL = '\u0000hush-arg:';

/**
 * SQL texts of prepared queries with their statement names: the PostgreSQL client (see
 * `openDatabase`) runs these as named statements, parsed and planned once per connection.
 */
export const namedStatements = new Map<string, string>();

/**
 * A query built and compiled once per dialect, then run with new arguments: for the few queries
 * every request runs (authentication, the runtime read, the audit head), where Kysely's building
 * and compiling costs more than the database's work. `build` must use every argument as a plain
 * value (`where(col, '=', args.x)`, `set({ col: args.x })`), never in a way that changes the SQL
 * text (`is null` checks, `in` lists, conditional clauses).
 *
 * @example
 * const byHash = preparedQuery((db, a: { hash: string }) =>
 *   db.selectFrom('apiTokens').selectAll().where('tokenHash', '=', a.hash));
 * const rows = await byHash(db, { hash });
 */
export function preparedQuery<A extends Record<string, Param>, R>(
  build: (db: Kysely<Schema>, args: A) => Compilable<R>,
): (db: Kysely<Schema>, args: A) => Promise<R[]> {
  // By adapter: the same for a database and its transactions, different per dialect.
  const templates = new WeakMap<object, Template>();

  function templateFor(db: Kysely<Schema>, args: A): Template {
    const names = Object.keys(args);
    const sentinels = Object.fromEntries(names.map((n) => [n, `${SENTINEL}${n}`])) as A;
    const compiled = build(db, sentinels).compile();
    const slots = compiled.parameters.map((p) =>
      typeof p === 'string' && p.startsWith(SENTINEL)
        ? { arg: p.slice(SENTINEL.length) }
        : { value: p },
    );
    const used = new Set(slots.flatMap((s) => ('arg' in s ? [s.arg] : [])));
    const unused = names.filter((n) => !used.has(n));
    if (unused.length > 0) throw new Error(`prepared query ignores ${unused.join(', ')}`);
    if (!namedStatements.has(compiled.sql)) {
      namedStatements.set(compiled.sql, `hush_${namedStatements.size + 1}`);
    }
    return { sql: compiled.sql, slots };
  }

  return async (db, args) => {
    const adapter = db.getExecutor().adapter;
    let template = templates.get(adapter);
    if (!template) {
      template = templateFor(db, args);
      templates.set(adapter, template);
    }
    const parameters = template.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    const result = await db.executeQuery<R>(CompiledQuery.raw(template.sql, parameters));
    return result.rows;
  };
}
