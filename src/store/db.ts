import fs from 'node:fs';
import path from 'node:path';

import SqliteDatabase from 'better-sqlite3';
import {
  CamelCasePlugin,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';

import { namedStatements } from './prepared.js';
import type { Schema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** An open database: the Kysely handle, which dialect it speaks, and how to close it. */
export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  /** Where the data lives, for messages (a file path or the URL without password). */
  readonly location: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent SQLite is used. */
  databaseUrl?: string | undefined;
  /** Directory holding `hush.db` for SQLite. */
  dataDir: string;
  /** Largest PostgreSQL pool. */
  poolSize?: number;
  /**
   * SQLite's `synchronous` in WAL mode. `normal` (the default): a commit is written to the WAL
   * but synced only at checkpoints, so it survives a crash of the process, not of the machine.
   * `full`: every commit is synced before it returns.
   */
  sqliteSync?: 'normal' | 'full' | undefined;
}

// BIGINT (int8) comes back from pg as a string by default; our counters fit in a JS number.
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

/**
 * Opens SQLite (WAL, foreign keys on) in the data directory, or PostgreSQL when a URL is given.
 * Only `store/` knows which one it is.
 */
export function openDatabase(options: DatabaseOptions): Database {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      Client: PreparingClient,
      // Lets a query go out before the previous one is answered: PreparingClient sends a
      // transaction's BEGIN together with its first statement.
      pipeline: true,
    });
    // An idle client dropped by the server (restart, failover) must not crash the process;
    // the pool replaces it and the next query reports any lasting problem.
    pool.on('error', () => undefined);
    const db = new Kysely<Schema>({
      dialect: new PostgresDialect({ pool }),
      plugins: [new CamelCasePlugin()],
    });
    return {
      db,
      dialect: 'postgres',
      location: redactUrl(options.databaseUrl),
      close: () => db.destroy(),
    };
  }
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, 'hush.db');
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(options.sqliteSync === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Checkpoint every 8,000 WAL pages (32 MiB) rather than SQLite's 1,000: a write runs about
  // 20 pages, so the default made every ~50th request copy pages to the database and fsync
  // twice. Fewer, larger checkpoints copy a hot page (the audit head, the newest index leaves)
  // once for hundreds of writes.
  sqlite.pragma('wal_autocheckpoint = 8000');
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    plugins: [new CamelCasePlugin()],
  });
  return { db, dialect: 'sqlite', location: file, close: () => db.destroy() };
}

/**
 * A pg client that runs the SQL of {@link preparedQuery} as named statements (PostgreSQL parses
 * and plans each once per connection instead of on every request) and, in pipeline mode, sends
 * a transaction's `begin` without waiting for its answer: it goes out, and is answered, together
 * with the transaction's first statement, which saves a round trip per transaction. That
 * statement's promise settles only after both answers, and rejects with BEGIN's error if BEGIN
 * failed. Every other query is sent as Kysely sends it.
 */
class PreparingClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    let begun: Promise<unknown> | undefined;
    this.query = ((text: unknown, values: unknown, ...rest: unknown[]) => {
      if (text === 'begin' && rest.length === 0 && this.pipeline && !begun) {
        const sent = query(text, values) as Promise<unknown>;
        sent.catch(() => undefined); // reported by the next statement
        begun = sent;
        return Promise.resolve(BEGUN);
      }
      const name = typeof text === 'string' ? namedStatements.get(text) : undefined;
      const result =
        name && Array.isArray(values)
          ? query({ name, text, values }, ...rest)
          : query(text, values, ...rest);
      if (!begun) return result;
      const begin = begun;
      begun = undefined;
      return Promise.all([begin, result]).then(([, answer]) => answer);
    }) as typeof this.query;
  }
}

// What Kysely gets back for a BEGIN still on its way: it reads nothing of it.
const BEGUN = { command: 'BEGIN', rowCount: null, rows: [], fields: [], oid: 0 };

// Distinct SQL texts kept prepared; Kysely's queries are a few hundred shapes.
const STATEMENT_CACHE_SIZE = 1000;

/**
 * better-sqlite3 with its prepared statements reused by SQL text: Kysely's SQLite driver
 * prepares every query anew, which costs more than running most of ours. A statement still
 * being iterated (a streamed export) is never handed out twice.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sqlText: string) {
      const cached = statements.get(sqlText);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sqlText);
      if (!cached) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
        statements.set(sqlText, statement);
      }
      return statement;
    },
  };
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
