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

import { ConfigError } from '../config.js';
import { namedStatements } from './prepared.js';
import type { Schema } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** An open database: the Kysely handle, which dialect it speaks, and how to close it. */
export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: Dialect;
  /** Where the data lives, for messages (a file path or the URL without password). */
  readonly location: string;
  /**
   * SQLite: copies the database to `destination` with SQLite's online backup API, a consistent
   * snapshot while other connections (a running server) keep writing. None for PostgreSQL.
   */
  backup?(destination: string): Promise<void>;
  /** The PostgreSQL pool's connections (in all, idle, and callers waiting); none for SQLite. */
  poolStats?(): { total: number; idle: number; waiting: number };
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
 * Only `store/` knows which one it is. Either way the data directory (it holds the master key
 * file and the jobs' directories too) is made private first: see {@link preparePrivateDataDir}.
 */
export function openDatabase(options: DatabaseOptions): Database {
  preparePrivateDataDir(options.dataDir);
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
      poolStats: () => ({
        total: pool.totalCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
      }),
      close: () => db.destroy(),
    };
  }
  const file = path.join(options.dataDir, 'hush.db');
  // The database, its WAL and shared-memory index are 0600 without touching the process umask
  // (jobs rely on it): the database file is created 0600 before SQLite opens it, and SQLite
  // gives the -wal and -shm files it creates the main file's mode. Files left wider by an older
  // version are tightened, and the -wal/-shm once more after opening, in case SQLite made them.
  fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE));
  for (const suffix of ['', '-wal', '-shm']) tightenFile(file + suffix);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  for (const suffix of ['-wal', '-shm']) tightenFile(file + suffix);
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
  return {
    db,
    dialect: 'sqlite',
    location: file,
    async backup(destination) {
      fs.closeSync(fs.openSync(destination, 'wx', PRIVATE_FILE));
      await sqlite.backup(destination);
    },
    close: () => db.destroy(),
  };
}

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * Creates the data directory 0700 (with any missing parents), or tightens an existing one
 * that group or others can enter, read or write to 0700. Throws a one-line {@link ConfigError}
 * when it cannot (a directory owned by another user): a directory others can write to lets
 * them replace the database or the master key file.
 */
function preparePrivateDataDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  try {
    fs.chmodSync(dir, PRIVATE_DIR);
  } catch (error) {
    throw new ConfigError([
      `data directory ${dir} is accessible by others (mode ${octal(mode)}) and chmod 700 failed (${(error as NodeJS.ErrnoException).code ?? String(error)}); run chmod 700 ${dir} as its owner, or set HUSH_DATA_DIR / --data-dir to a directory of the server's user`,
    ]);
  }
}

/** chmod 0600 a file that exists with any group or other bit; nothing when it is missing. */
function tightenFile(file: string): void {
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if ((mode & 0o077) !== 0) fs.chmodSync(file, PRIVATE_FILE);
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
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
    // The pool listens for errors only on idle clients: a connection that dies while checked
    // out (PostgreSQL stopped mid-request) emits 'error' with no listener, which would crash
    // the process. Its queries are rejected all the same, and the pool drops the client when
    // it comes back unqueryable.
    this.on('error', () => undefined);
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
  // SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR):
  // Kysely's ROLLBACK after that must not replace the real error with "no transaction is active".
  const rollback = sqlite.prepare('rollback');
  const rollbackIfOpen = {
    reader: false,
    run: () => (sqlite.inTransaction ? rollback.run() : { changes: 0, lastInsertRowid: 0 }),
    all: () => [],
    iterate: () => [][Symbol.iterator](),
  } as unknown as SqliteDatabase.Statement;
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      if (text === 'rollback') return rollbackIfOpen;
      // A deferred transaction that reads and then writes gets SQLITE_BUSY at once, with no busy
      // wait, when another process (hush admin, a second node) wrote meanwhile: every
      // transaction takes the write lock when it begins instead, waiting up to the busy timeout.
      // Within one process the connection runs one transaction at a time anyway.
      const sqlText = text === 'begin' ? 'begin immediate' : text;
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
