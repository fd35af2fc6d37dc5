import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { track } from './resources.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ScramCluster {
  port: number;
  /** The server's log (pg_ctl -l): with `log_statement = 'all'`, every statement it ran. */
  logFile: string;
  /** Runs statements one by one as the superuser over the cluster's Unix socket (trusted). */
  admin(...statements: string[]): Promise<void>;
  /** One query as the superuser; its rows. */
  query(statement: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL 15 cluster of this file's own, on a free port: scram-sha-256 on TCP, so a wrong
 * password fails (the shared test server trusts every password). initdb refuses root, so it
 * runs as the `postgres` OS user.
 */
export async function startScramCluster(): Promise<ScramCluster> {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  // Not databases.ts's tempDir: the bench starts a cluster too, outside vitest.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-scram-'));
  track(`dir ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), { lingering: true });
  fs.chownSync(dir, uid, gid);
  const data = path.join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, {
      uid,
      gid,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, LC_ALL: 'C' },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stdout}${r.stderr}`);
  };
  asPostgres('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
  ]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
  asPostgres('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-o', options, '-w', 'start']);
  const handle = track(`scram cluster on port ${port}`, () =>
    asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
  );
  return {
    port,
    logFile: path.join(dir, 'log'),
    async admin(...statements) {
      const client = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        for (const statement of statements) await client.query(statement);
      } finally {
        await client.end();
      }
    },
    async query(statement) {
      const client = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        return (await client.query(statement)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    stop: () => handle.close(),
  };
}

/** Whether `password` signs `user` in to `database` over TCP. */
export async function signsIn(port: number, user: string, database: string, password: string) {
  const client = new pg.Client({ host: '127.0.0.1', port, user, database, password });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
