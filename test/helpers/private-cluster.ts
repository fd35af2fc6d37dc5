import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { track } from './resources.js';

/** A free TCP port on the loopback address (free when asked; the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateCluster {
  port: number;
  /** The server's log (pg_ctl -l): with `log_statement = 'all'`, every statement it ran. */
  logFile: string;
  /** The URL of `database` as the superuser over TCP (no password: for a trusting cluster). */
  url(database: string): string;
  /** Runs statements one by one as the superuser over the cluster's Unix socket (trusted). */
  admin(...statements: string[]): Promise<void>;
  /** One query as the superuser; its rows. */
  query(statement: string): Promise<Record<string, unknown>[]>;
  /** `pg_ctl stop -m fast`: sessions are terminated and the port refuses connections. */
  halt(): Promise<void>;
  /** `pg_ctl start` on the same port and data; resolves once it accepts connections. */
  resume(): Promise<void>;
  /** Stops the cluster for good (its files go when the test file ends). */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL cluster of the caller's own, on a free port, that the caller may stop and start
 * again (an outage that a shared server cannot stage). On TCP it trusts every connection, or
 * with `hostAuth: 'scram-sha-256'` checks passwords (the shared test server trusts any); its
 * Unix socket always trusts the superuser. initdb refuses root, so the cluster runs as the
 * `postgres` OS user. Vitest-free: the bench and the soak harness start clusters too.
 */
export async function startPrivateCluster(
  options: {
    hostAuth?: 'trust' | 'scram-sha-256';
    /** Server settings (`-c name=value`), such as max_connections. */
    settings?: Record<string, string | number>;
    /** A directory the caller owns and removes; by default a temporary one removed at the end. */
    dir?: string;
  } = {},
): Promise<PrivateCluster> {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  // Not databases.ts's tempDir: the bench starts a cluster too, outside vitest.
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hush-pg-'));
  fs.mkdirSync(dir, { recursive: true });
  if (!options.dir)
    track(`dir ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), {
      lingering: true,
    });
  fs.chownSync(dir, uid, gid);
  const data = path.join(dir, 'data');
  // Asynchronous, so the caller's own requests keep going while PostgreSQL stops or starts.
  const asPostgres = (cmd: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      execFile(
        cmd,
        args,
        { uid, gid, cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, LC_ALL: 'C' } },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${cmd} failed: ${stdout}${stderr}`)) : resolve(),
      );
    });
  await asPostgres('initdb', [
    ...['-D', data, '-U', 'postgres', '-E', 'UTF8', '--auth-local=trust'],
    `--auth-host=${options.hostAuth ?? 'trust'}`,
  ]);
  const port = await freePort();
  const settings = Object.entries(options.settings ?? {}).map(([k, v]) => ` -c ${k}=${v}`);
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${settings.join('')}`;
  const logFile = path.join(dir, 'log');
  const pgCtl = (...args: string[]) => asPostgres('pg_ctl', ['-D', data, ...args]);
  const start = () => pgCtl('-l', logFile, '-o', serverOptions, '-w', 'start');
  let running = false;
  await start();
  running = true;
  const handle = track(`private cluster on port ${port}`, async () => {
    if (running) await pgCtl('-m', 'fast', '-w', 'stop');
    running = false;
  });
  const superuser = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    logFile,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async admin(...statements) {
      await superuser(async (client) => {
        for (const statement of statements) await client.query(statement);
      });
    },
    query: (statement) =>
      superuser(
        async (client) => (await client.query(statement)).rows as Record<string, unknown>[],
      ),
    async halt() {
      await pgCtl('-m', 'fast', '-w', 'stop');
      running = false;
    },
    async resume() {
      await start();
      running = true;
    },
    stop: () => handle.close(),
  };
}
