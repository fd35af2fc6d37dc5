import { execFile, execFileSync } from 'node:child_process';
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

export interface PrivateCluster {
  port: number;
  /** The URL of `database` as the superuser over TCP (trusted: no password). */
  url(database: string): string;
  /** Runs statements one by one as the superuser over the cluster's Unix socket. */
  admin(...statements: string[]): Promise<void>;
  /** `pg_ctl stop -m fast`: sessions are terminated and the port refuses connections. */
  halt(): Promise<void>;
  /** `pg_ctl start` on the same port and data; resolves once it accepts connections. */
  resume(): Promise<void>;
  /** Stops the cluster for good (its files go when the test file ends). */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL cluster of the caller's own, on a free port, trusting every connection, that the
 * caller may stop and start again (an outage that a shared server cannot stage). initdb refuses
 * root, so the cluster runs as the `postgres` OS user. Vitest-free, like scram-cluster.ts.
 */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hush-pg-'));
  track(`dir ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), { lingering: true });
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
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--auth=trust']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
  const pgCtl = (...args: string[]) => asPostgres('pg_ctl', ['-D', data, ...args]);
  const start = () => pgCtl('-l', path.join(dir, 'log'), '-o', options, '-w', 'start');
  let running = false;
  await start();
  running = true;
  const handle = track(`private cluster on port ${port}`, async () => {
    if (running) await pgCtl('-m', 'fast', '-w', 'stop');
    running = false;
  });
  return {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async admin(...statements) {
      const client = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        for (const statement of statements) await client.query(statement);
      } finally {
        await client.end();
      }
    },
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
