import pg from 'pg';

import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { randomPassword, scramVerifier } from '../src/crypto/scram.js';
import { startScramCluster } from '../test/helpers/scram-cluster.js';
import {
  benchOrganization,
  type Dialect,
  type Figures,
  median,
  record,
  SYSTEM,
  withDatabase,
} from './common.js';

/**
 * `rotation_p50_ms`: one single-strategy rotation end to end (decrypt the secret and the admin
 * service, a new password and its SCRAM verifier, connect to a private scram-sha-256 cluster,
 * ALTER ROLE, store the next version with its ROTATE event, record the run). Its floors, in the
 * same run: `floor_scram_verifier_ms` (the PBKDF2 of 4,096 rounds) and `floor_alter_role_ms` (a
 * fresh connection as the admin and the one ALTER ROLE, by node-postgres directly).
 */
export async function rotationBench(dialects: Dialect[], quick: boolean, figures: Figures) {
  const cluster = await startScramCluster();
  try {
    await cluster.admin(
      `create role bench_admin login createrole password 'bench-admin-pw'`,
      `create role bench_app login password 'bench-app-pw'`,
    );
    const runs = quick ? 10 : 50;
    const admin = {
      host: '127.0.0.1',
      port: String(cluster.port),
      dbname: 'postgres',
      user: 'bench_admin',
      password: 'bench-admin-pw',
      sslmode: 'disable',
    };
    const verifierTimes: number[] = [];
    const alterTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t0 = process.hrtime.bigint();
      const verifier = scramVerifier(randomPassword(32, 'abcdefghijklmnopqrstuvwxyz0123456789'));
      verifierTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t0 = process.hrtime.bigint();
      const client = new pg.Client({
        host: '127.0.0.1',
        port: cluster.port,
        user: admin.user,
        password: admin.password,
        database: 'postgres',
      });
      await client.connect();
      await client.query(`alter role bench_app password '${verifier}'`);
      await client.end();
      alterTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    for (const dialect of dialects) {
      await withDatabase(dialect, async (settings) => {
        const app = await createApp(loadConfig({ ...settings, logLevel: 'silent' }, {}));
        try {
          const s = app.services;
          await benchOrganization(app);
          await s.secrets.add(SYSTEM, 'bench', { project: 'p' }, [
            { kind: 'pgservice', name: 'admin', settings: admin },
            {
              kind: 'pgservice',
              name: 'app',
              settings: { ...admin, user: 'bench_app', password: 'bench-app-pw' },
            },
          ]);
          await s.rotations.add(SYSTEM, 'bench', {
            name: 'bench',
            secret: 'app',
            level: { project: 'p' },
            adminService: 'admin',
            strategy: 'single',
          });
          const times: number[] = [];
          for (let i = 0; i < runs + 2; i++) {
            const t0 = process.hrtime.bigint();
            const run = await s.rotations.runNow(SYSTEM, 'bench', 'bench');
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            if (run.outcome !== 'succeeded') throw new Error(`rotation failed: ${run.error}`);
            if (i >= 2) times.push(ms);
          }
          record(figures, 'rotation_p50_ms', {
            dialect,
            value: +median(times).toFixed(2),
            unit: 'ms',
          });
          record(figures, 'floor_scram_verifier_ms', {
            dialect,
            value: +median(verifierTimes).toFixed(2),
            unit: 'ms',
          });
          record(figures, 'floor_alter_role_ms', {
            dialect,
            value: +median(alterTimes).toFixed(2),
            unit: 'ms',
          });
        } finally {
          await app.close();
        }
      });
    }
  } finally {
    await cluster.stop();
  }
}
