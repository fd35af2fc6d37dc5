/**
 * The audit log at scale (issue 6): 10 million events in one organization's chain and 1 million
 * spread over 1,000 others, then the filtered first page (p50/p95), export and verify throughput.
 *
 * Loading 11 million hash-chained events takes minutes, so the data set is kept between runs:
 * SQLite under `bench/.cache/`, PostgreSQL in the database `hush_bench_audit_keyed_<events>` (with its
 * key file under `bench/.cache/`). `--fresh` reloads. `--quick` uses 20,000 + 20,000 events.
 * Run alone with `tsx bench/audit.ts [--quick] [--json] [--fresh]`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Sqlite from 'better-sqlite3';
import pg from 'pg';

import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { AuditKeys } from '../src/domain/audit/audit-key.js';
import { computeKeyedEventHash, GENESIS_HASH, sealHead } from '../src/domain/audit/chain.js';
import type { RequestContext } from '../src/domain/context.js';
import type { AuditEventRow } from '../src/store/schema.js';

type Dialect = 'sqlite' | 'postgres';
export type Figure = { dialect: string; value: number; unit: string };

export interface AuditBenchOptions {
  quick: boolean;
  fresh: boolean;
  dialects: Dialect[];
  pgAdminUrl: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
}

const DAY_MS = 86_400_000;
const SECONDARY_INDEXES = [
  ['audit_events_org_time', ['org_id', 'timestamp']],
  ['audit_events_org_target_name_seq', ['org_id', 'target_name', 'seq']],
  ['audit_events_org_target_type_seq', ['org_id', 'target_type', 'seq']],
  ['audit_events_org_event_type_seq', ['org_id', 'event_type', 'seq']],
  ['audit_events_org_actor_seq', ['org_id', 'actor', 'seq']],
] as const;
const COLUMNS = [
  'id',
  'org_id',
  'seq',
  'timestamp',
  'event_type',
  'target_type',
  'target_id',
  'target_name',
  'change',
  'actor',
  'actor_id',
  'tool',
  'ip',
  'details',
  'prev_hash',
  'hash',
] as const;

/** A small deterministic PRNG (mulberry32), so every run loads the same log. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Event types weighted as a busy organization sees them: mostly value reads and job runs. */
const MIX: [string, string, number][] = [
  ['ACCESS', 'secret', 0.5],
  ['TRIGGER_JOB', 'job', 0.15],
  ['CREATE', 'secret', 0.1],
  ['UPDATE', 'project', 0.08],
  ['ROTATE', 'secret', 0.05],
  ['LOGIN', 'member', 0.05],
  ['DELETE', 'secret', 0.03],
  ['DENIED', 'environment', 0.02],
  ['CANCEL_JOB', 'job', 0.01],
  ['LOGIN_FAILED', 'member', 0.01],
];
const TOOLS = ['cli', 'cli', 'cli', 'cli', 'api', 'api', 'api', 'console', 'console', 'system'];

/**
 * Yields one organization's chain of `count` events, timestamps spread evenly over the last
 * year (oldest first, so time grows with seq as it does for real events). About one event in
 * 20,000 targets the secret `ninja`.
 */
function* chainOf(
  orgId: string,
  count: number,
  seed: number,
  key: Buffer,
): Generator<AuditEventRow> {
  const random = prng(seed);
  const start = Date.now() - 365 * DAY_MS;
  const step = (365 * DAY_MS) / count;
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < count; i++) {
    let r = random();
    let [eventType, targetType] = MIX[0]!;
    for (const [e, t, w] of MIX) {
      if (r < w) {
        [eventType, targetType] = [e, t];
        break;
      }
      r -= w;
    }
    const targetName =
      random() < 1 / 20_000
        ? 'ninja'
        : targetType === 'secret'
          ? `SECRET_${Math.floor(random() * 5000)}`
          : `${targetType}-${Math.floor(random() * 500)}`;
    const member = Math.floor(random() * 70);
    const actor = member < 50 ? `member-${member}@example.com` : `token:deploy-${member - 50}`;
    const fields = {
      id: randomUUID(),
      orgId,
      seq: i + 1,
      timestamp: new Date(start + i * step).toISOString(),
      eventType,
      targetType,
      targetId: randomUUID(),
      targetName,
      change: `${eventType.toLowerCase()} ${targetType} ${targetName}`,
      actor,
      actorId: `usr_${member}`,
      tool: TOOLS[Math.floor(random() * TOOLS.length)]!,
      ip: `10.0.${member}.${Math.floor(random() * 250)}`,
      details: JSON.stringify({ project: `p-${Math.floor(random() * 1000)}`, environment: 'prod' }),
    };
    const hash = computeKeyedEventHash(key, fields, prevHash);
    yield { ...fields, prevHash, hash };
    prevHash = hash;
  }
}

/** Each chain keyed from seq 1, as the server writes them, with its head's seal. */
function* everyChain(
  big: { id: string; events: number },
  others: string[],
  perOther: number,
  keys: AuditKeys,
) {
  const seal = (orgId: string) =>
    sealHead(keys.head, orgId, { keyedFromSeq: 1, anchorSeq: 0, anchorHash: GENESIS_HASH });
  yield { orgId: big.id, seal: seal(big.id), rows: chainOf(big.id, big.events, 1, keys.event) };
  for (const [i, orgId] of others.entries())
    yield { orgId, seal: seal(orgId), rows: chainOf(orgId, perOther, 1000 + i, keys.event) };
}

function rowValues(row: AuditEventRow): unknown[] {
  return [
    row.id,
    row.orgId,
    row.seq,
    row.timestamp,
    row.eventType,
    row.targetType,
    row.targetId,
    row.targetName,
    row.change,
    row.actor,
    row.actorId,
    row.tool,
    row.ip,
    row.details,
    row.prevHash,
    row.hash,
  ];
}

interface Scale {
  big: number;
  orgs: number;
  perOrg: number;
}

/** Loads the chains into SQLite with the secondary indexes dropped, then builds them. */
function loadSqlite(file: string, chains: ReturnType<typeof everyChain>, log: (s: string) => void) {
  const db = new Sqlite(file);
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1000000');
  for (const [name] of SECONDARY_INDEXES) db.exec(`drop index if exists ${name}`);
  const insert = db.prepare(
    `insert into audit_events (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`,
  );
  const head = db.prepare(
    'insert into audit_heads (org_id, seq, hash, keyed_from_seq, head_mac) values (?, ?, ?, 1, ?) on conflict (org_id) do update set seq = excluded.seq, hash = excluded.hash, keyed_from_seq = 1, head_mac = excluded.head_mac',
  );
  const batch = db.transaction((rows: AuditEventRow[]) => {
    for (const row of rows) insert.run(...rowValues(row));
  });
  let total = 0;
  for (const { orgId, seal, rows } of chains) {
    let buffer: AuditEventRow[] = [];
    let last: AuditEventRow | undefined;
    for (const row of rows) {
      buffer.push(row);
      last = row;
      if (buffer.length === 50_000) {
        batch(buffer);
        total += buffer.length;
        buffer = [];
        if (total % 1_000_000 === 0) log(`  sqlite: ${total.toLocaleString('en-US')} events`);
      }
    }
    batch(buffer);
    total += buffer.length;
    if (last) head.run(orgId, last.seq, last.hash, seal);
  }
  log('  sqlite: building indexes');
  for (const [name, columns] of SECONDARY_INDEXES)
    db.exec(`create index ${name} on audit_events (${columns.join(', ')})`);
  db.exec('analyze');
  db.close();
}

/** Loads the chains into PostgreSQL through unnest() batches, then builds the indexes. */
async function loadPostgres(
  url: string,
  chains: ReturnType<typeof everyChain>,
  log: (s: string) => void,
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('set synchronous_commit = off');
  await client.query("set maintenance_work_mem = '512MB'");
  for (const [name] of SECONDARY_INDEXES) await client.query(`drop index if exists ${name}`);
  const types = COLUMNS.map((c) => (c === 'seq' ? 'bigint[]' : 'text[]'));
  const sql = `insert into audit_events (${COLUMNS.join(', ')}) select * from unnest(${types
    .map((t, i) => `$${i + 1}::${t}`)
    .join(', ')})`;
  const flush = async (rows: AuditEventRow[]) => {
    if (rows.length === 0) return;
    const columns: unknown[][] = COLUMNS.map(() => []);
    for (const row of rows) rowValues(row).forEach((v, i) => columns[i]!.push(v));
    await client.query(sql, columns);
  };
  let total = 0;
  for (const { orgId, seal, rows } of chains) {
    let buffer: AuditEventRow[] = [];
    let last: AuditEventRow | undefined;
    for (const row of rows) {
      buffer.push(row);
      last = row;
      if (buffer.length === 10_000) {
        await flush(buffer);
        total += buffer.length;
        buffer = [];
        if (total % 1_000_000 === 0) log(`  postgres: ${total.toLocaleString('en-US')} events`);
      }
    }
    await flush(buffer);
    total += buffer.length;
    if (last) {
      await client.query(
        'insert into audit_heads (org_id, seq, hash, keyed_from_seq, head_mac) values ($1, $2, $3, 1, $4) on conflict (org_id) do update set seq = excluded.seq, hash = excluded.hash, keyed_from_seq = 1, head_mac = excluded.head_mac',
        [orgId, last.seq, last.hash, seal],
      );
    }
  }
  log('  postgres: building indexes');
  for (const [name, columns] of SECONDARY_INDEXES)
    await client.query(`create index ${name} on audit_events (${columns.join(', ')})`);
  await client.query('analyze audit_events');
  await client.end();
}

async function ensurePgDatabase(adminUrl: string, name: string, fresh: boolean): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  if (fresh) await admin.query(`drop database if exists ${name} with (force)`);
  const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
  if (exists.rowCount === 0) await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates (or reuses) the data set; returns the settings to open it. */
async function prepare(dialect: Dialect, scale: Scale, opts: AuditBenchOptions) {
  const total = scale.big + scale.orgs * scale.perOrg;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dataDir = path.join(here, '.cache', `audit-keyed-${total}-${dialect}`);
  const marker = path.join(dataDir, 'loaded.json');
  const databaseUrl =
    dialect === 'postgres'
      ? await ensurePgDatabase(opts.pgAdminUrl, `hush_bench_audit_keyed_${total}`, opts.fresh)
      : undefined;
  const settings = { dataDir, ...(databaseUrl ? { databaseUrl } : {}) };
  if (!opts.fresh && fs.existsSync(marker)) {
    opts.log(`${dialect}: reusing ${total.toLocaleString('en-US')} events (${dataDir})`);
    return settings;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (databaseUrl) await ensurePgDatabase(opts.pgAdminUrl, `hush_bench_audit_keyed_${total}`, true);
  fs.mkdirSync(dataDir, { recursive: true });
  opts.log(`${dialect}: loading ${total.toLocaleString('en-US')} events (kept for later runs)`);
  const started = Date.now();
  const app = await createApp(loadConfig({ ...settings, logLevel: 'silent' }, {}));
  await app.services.setup.bootstrap(SYSTEM, {
    email: 'owner@example.com',
    password: 'bench password',
    org: 'big',
  });
  const db = app.database.db;
  const big = await db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
  // The bootstrap's own events would sit out of time order before a year of history: drop them.
  await db.deleteFrom('auditEvents').execute();
  await db.deleteFrom('auditHeads').execute();
  const others: string[] = [];
  for (let i = 0; i < scale.orgs; i++) {
    const id = randomUUID();
    others.push(id);
    await db
      .insertInto('organizations')
      .values({
        id,
        slug: `org-${i}`,
        name: `Org ${i}`,
        plan: 'free',
        auditRetentionDays: null,
        createdAt: new Date().toISOString(),
      })
      .execute();
  }
  const keys = app.services.auditKey.current();
  await app.close();
  const chains = everyChain({ id: big.id, events: scale.big }, others, scale.perOrg, keys);
  if (databaseUrl) await loadPostgres(databaseUrl, chains, opts.log);
  else loadSqlite(path.join(dataDir, 'hush.db'), chains, opts.log);
  fs.writeFileSync(marker, JSON.stringify({ ...scale, seconds: (Date.now() - started) / 1000 }));
  opts.log(`${dialect}: loaded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return settings;
}

const SYSTEM: RequestContext = { actor: { kind: 'system' }, tool: 'system', ip: null };

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const result = await work();
  return [Number(process.hrtime.bigint() - t0) / 1e6, result];
}

/** Measures one dialect; returns its figures. */
async function measure(dialect: Dialect, scale: Scale, opts: AuditBenchOptions) {
  const settings = await prepare(dialect, scale, opts);
  const app = await createApp(loadConfig({ ...settings, logLevel: 'silent' }, {}));
  const figures: Record<string, Figure> = {};
  const put = (key: string, value: number, unit: string) =>
    (figures[key] = { dialect, value: +value.toFixed(unit === 'ms' ? 2 : 0), unit });
  try {
    const user = await app.database.db
      .selectFrom('users')
      .select(['id', 'email'])
      .executeTakeFirstOrThrow();
    const ctx: RequestContext = {
      actor: { kind: 'user', userId: user.id, email: user.email },
      tool: 'cli',
      ip: null,
    };
    const q = app.services.auditQuery;
    const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();
    const runs = opts.quick ? 10 : 30;

    const first: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const [ms, page] = await timed(() => q.list(ctx, 'big', { limit: 50 }));
      if (page.events.length !== 50) throw new Error('first page is not full');
      if (i >= 3) first.push(ms);
    }
    put('audit_first_page_p50_ms', percentile(first, 50), 'ms');
    put('audit_first_page_p95_ms', percentile(first, 95), 'ms');

    // "Who changed ninja last week", and the other filters the console offers.
    const filters = [
      { target: 'ninja' },
      { target: 'ninja', since: ago(30) },
      { eventType: 'ROTATE', since: ago(7) },
      { actor: 'member-7@example.com' },
      { targetType: 'job', until: ago(180) },
      { eventType: 'LOGIN_FAILED', actor: 'member-3@example.com' },
      { since: ago(200), until: ago(199) },
    ];
    const filtered: number[] = [];
    for (const filter of filters) {
      const times: number[] = [];
      for (let i = 0; i < runs + 2; i++) {
        const [ms] = await timed(() => q.list(ctx, 'big', { ...filter, limit: 50 }));
        if (i >= 2) times.push(ms);
      }
      filtered.push(...times);
      opts.log(
        `  ${dialect} ${JSON.stringify(filter)}: p50 ${percentile(times, 50).toFixed(2)} ms`,
      );
    }
    put('audit_filtered_page_p50_ms', percentile(filtered, 50), 'ms');
    put('audit_filtered_page_p95_ms', percentile(filtered, 95), 'ms');

    // Export: a one-month window (about 830,000 events at full scale), consumed as a client would.
    const window = opts.quick ? {} : { since: ago(60), until: ago(30) };
    const [exportMs, count] = await timed(async () => {
      const exported = await q.exportEvents(ctx, 'big', 'jsonl', window);
      let bytes = 0;
      for await (const chunk of exported.chunks) bytes += chunk.length;
      if (bytes === 0) throw new Error('empty export');
      return exported.count;
    });
    put('audit_export_events_per_s', (count / exportMs) * 1000, 'events/s');

    const [verifyMs, verdict] = await timed(() => q.verify(ctx, 'big'));
    if (!verdict.ok) throw new Error(`chain broken: ${JSON.stringify(verdict)}`);
    put('audit_verify_events_per_s', (verdict.checked / verifyMs) * 1000, 'events/s');
    opts.log(
      `  ${dialect}: exported ${count.toLocaleString('en-US')} in ${(exportMs / 1000).toFixed(1)} s, verified ${verdict.checked.toLocaleString('en-US')} in ${(verifyMs / 1000).toFixed(1)} s`,
    );
  } finally {
    await app.close();
  }
  return figures;
}

/** Runs the audit scenario on every dialect; returns figures keyed by name, one entry per dialect. */
export async function runAuditBench(opts: AuditBenchOptions): Promise<Record<string, Figure[]>> {
  const scale: Scale = opts.quick
    ? { big: 20_000, orgs: 20, perOrg: 1000 }
    : { big: 10_000_000, orgs: 1000, perOrg: 1000 };
  const out: Record<string, Figure[]> = {};
  for (const dialect of opts.dialects) {
    const figures = await measure(dialect, scale, opts);
    for (const [key, figure] of Object.entries(figures)) (out[key] ??= []).push(figure);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const figures = await runAuditBench({
    quick: argv.includes('--quick'),
    fresh: argv.includes('--fresh'),
    dialects: ['sqlite', 'postgres'],
    pgAdminUrl:
      process.env.HUSH_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(figures)}\n`);
  else
    for (const [key, list] of Object.entries(figures))
      process.stdout.write(
        `${key.padEnd(30)} ${list.map((f) => `${f.dialect} ${f.value} ${f.unit}`).join('   ')}\n`,
      );
}
