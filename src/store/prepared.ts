import {
  type Compilable,
  type CompiledQuery,
  type Kysely,
  PostgresAdapter,
  type QueryResult,
} from 'kysely';

import type { Schema } from './schema.js';

// A value no caller passes: marks where a named parameter lands in the compiled query.
const MARK = '\u0000hush-parameter:';

/**
 * SQL texts of prepared queries with their statement names: the PostgreSQL client (see
 * `openDatabase`) runs these as named statements, parsed and planned once per connection.
 */
export const namedStatements = new Map<string, string>();

/** Where each compiled parameter comes from: a named parameter, or a constant of the query. */
type Binding = { name: string } | { value: unknown };

interface Prepared<R> {
  compiled: CompiledQuery<R>;
  bindings: Binding[];
}

/** True when `db` (or a transaction of it) speaks PostgreSQL, whose statements can do more at once. */
export function onPostgres(db: Kysely<Schema>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * A query that Kysely builds, transforms and compiles once per database rather than on every
 * run (about 30 µs each here, more than SQLite takes to run the hottest queries), then runs
 * with fresh parameters; on PostgreSQL as a named statement (see {@link namedStatements}). `names` lists every parameter (the compiler checks the list is
 * complete); `build` must use each one only as a value (`where`, `values`, `set`) and never
 * in a list whose length varies. Queries built from one `Kysely` share the compiled text with
 * its transactions; another database (or dialect) compiles its own.
 *
 * @example
 * const findBySlug = preparedQuery({ slug: null }, (db, p: { slug: string }) =>
 *   db.selectFrom('organizations').selectAll().where('slug', '=', p.slug),
 * );
 * const { rows } = await findBySlug(db, { slug: 'acme' });
 */
export function preparedQuery<P extends object, R>(
  names: { readonly [K in keyof P]-?: null },
  build: (db: Kysely<Schema>, p: P) => Compilable<R>,
): (db: Kysely<Schema>, params: P) => Promise<QueryResult<R>> {
  // By dialect adapter: one per database, shared by its transactions, gone with it.
  const byAdapter = new WeakMap<object, Prepared<R>>();

  function prepare(db: Kysely<Schema>): Prepared<R> {
    const marks: Record<string, string> = {};
    for (const name of Object.keys(names)) marks[name] = MARK + name;
    const compiled = build(db, marks as P).compile();
    const bindings = compiled.parameters.map((value): Binding => {
      if (typeof value === 'string' && value.startsWith(MARK)) {
        return { name: value.slice(MARK.length) };
      }
      return { value };
    });
    // A parameter written into the SQL text, or dropped, would run with the wrong value.
    const bound = new Set(bindings.flatMap((b) => ('name' in b ? [b.name] : [])));
    const unbound = Object.keys(names).filter((name) => !bound.has(name));
    if (compiled.sql.includes(MARK) || unbound.length > 0) {
      throw new Error(`prepared query does not bind [${unbound.join(', ')}] as parameters`);
    }
    if (!namedStatements.has(compiled.sql)) {
      namedStatements.set(compiled.sql, `hush_${namedStatements.size + 1}`);
    }
    return { compiled, bindings };
  }

  return async (db, params) => {
    const adapter = db.getExecutor().adapter;
    let prepared = byAdapter.get(adapter);
    if (!prepared) {
      prepared = prepare(db);
      byAdapter.set(adapter, prepared);
    }
    const values = params as Record<string, unknown>;
    const parameters = prepared.bindings.map((b) => ('name' in b ? values[b.name] : b.value));
    return await db.executeQuery({ ...prepared.compiled, parameters });
  };
}
