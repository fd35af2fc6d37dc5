import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import pg from 'pg';
import { describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

interface Ready {
  status: number;
  checks: { check: string; ok: boolean; reason?: string; keys?: string[] }[];
}

async function readiness(url: string): Promise<Ready> {
  const r = await fetch(`${url}/readyz`);
  const { checks } = (await r.json()) as { checks: Ready['checks'] };
  return { status: r.status, checks };
}

// Two servers on one PostgreSQL, each with its own HUSH_MASTER_KEY*: the master key rotates in
// phases (stage on every node, activate, retire), a node that lacks the active key says so on
// /readyz and wraps nothing with the old one, and after the rotation both restart on the new
// key alone, reading everything written before, during and after.
describe.runIf(DIALECTS.includes('postgres'))('master-key rotation across two servers', () => {
  it('stages, activates and retires a key on two nodes, which both restart on it', async () => {
    const { db, serverEnv } = await bootstrappedServerEnv('postgres');
    const one = key('mk_one');
    const two = key('mk_two');
    const envWith = (primary: string, previous?: string) => ({
      ...serverEnv,
      HUSH_MASTER_KEY: primary,
      ...(previous ? { HUSH_MASTER_KEY_PREVIOUS: previous } : {}),
    });
    // The bootstrap made the database's keys with a key file: move them under mk_one first, the
    // way an operator moves from the key file to HUSH_MASTER_KEY (stage it, activate, retire).
    const file = path.join(db.dataDir, 'master.key');
    const ok = async (args: string[], env: Record<string, string>, stdin?: string) => {
      const r = await runHush(args, { env, ...(stdin ? { stdin } : {}) });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    await ok(['admin', 'master-key', 'add', '--stdin'], serverEnv, `${one}\n`);
    await ok(['admin', 'master-key', 'activate', 'mk_one'], serverEnv);
    const fileKeys = JSON.parse(await ok(['admin', 'master-key', 'list', '--json'], serverEnv)) as {
      keys: { id: string; state: string | null }[];
    };
    for (const k of fileKeys.keys.filter((k) => k.id !== 'mk_one'))
      await ok(['admin', 'master-key', 'retire', k.id], serverEnv);
    const inFile = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: object };
    expect(Object.keys(inFile.keys)).toEqual(['mk_one']);

    let a = await spawnServer(envWith(one));
    let b = await spawnServer(envWith(one));
    try {
      const cli = await signedInCli(a.url);
      const at = (server: { url: string }) => ({ ...cli, HUSH_URL: server.url });
      const put = (cli: Record<string, string>, name: string) =>
        ok(
          [
            'secret',
            'add',
            'env',
            name,
            '--plain',
            '--value-stdin',
            '--project',
            'maps',
            '--org',
            'acme',
          ],
          cli,
          `${name}-value\n`,
        );
      const get = async (cli: Record<string, string>, name: string) =>
        (await ok(['secret', 'get', name, '--project', 'maps', '--org', 'acme'], cli)).trim();
      await ok(['project', 'create', 'maps'], at(a));
      await put(at(a), 'BEFORE');

      // Stage mk_two on A only, then (an operator's mistake) activate it before B holds it.
      await a.stop();
      a = await spawnServer(envWith(one, two));
      expect(
        (await readiness(a.url)).checks.find((c) => c.check === 'masterKey')?.keys?.sort(),
      ).toEqual(['mk_one', 'mk_two']);
      await ok(['admin', 'master-key', 'activate', 'mk_two'], envWith(one, two));
      const notReady = await readiness(b.url);
      expect(notReady.status).toBe(503);
      expect(notReady.checks.find((c) => c.check === 'masterKey')).toMatchObject({
        ok: false,
        reason: expect.stringContaining('"mk_two"') as unknown,
      });
      // B wraps nothing with the old key: a new organization there is refused, not half made.
      const refused = await runHush(['org', 'create', 'on-b'], { env: at(b) });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('mk_two');
      // A node holding only the old key refuses to start, naming the one it lacks.
      const stale = await runHush(['admin', 'migrate'], { env: envWith(one) });
      expect(stale.code).not.toBe(0);
      expect(stale.stderr).toContain('"mk_two"');

      // Stage on B (its rolling restart): both nodes ready, both write.
      await b.stop();
      b = await spawnServer(envWith(two, one));
      expect((await readiness(b.url)).status).toBe(200);
      await put(at(a), 'DURING_A');
      await put(at(b), 'DURING_B');
      await ok(['org', 'create', 'made-on-b'], at(b));

      // Retire mk_one: nothing is wrapped with it any more.
      await ok(['admin', 'master-key', 'retire', 'mk_one'], envWith(two, one));
      const listed = JSON.parse(
        await ok(['admin', 'master-key', 'list', '--json'], envWith(two)),
      ) as {
        active: string;
        keys: { id: string; state: string | null; dataKeys: number; auditKeys: number }[];
      };
      expect(listed.active).toBe('mk_two');
      expect(listed.keys.find((k) => k.id === 'mk_one')).toMatchObject({
        state: 'retired',
        dataKeys: 0,
        auditKeys: 0,
      });
      const client = new pg.Client({ connectionString: db.databaseUrl });
      await client.connect();
      try {
        const wraps = await client.query<{ master_key_id: string }>(
          'select master_key_id from data_keys union all select master_key_id from audit_keys',
        );
        expect(new Set(wraps.rows.map((r) => r.master_key_id))).toEqual(new Set(['mk_two']));
      } finally {
        await client.end();
      }

      // Both restart on mk_two alone and read everything.
      await a.stop();
      await b.stop();
      a = await spawnServer(envWith(two));
      b = await spawnServer(envWith(two));
      await put(at(b), 'AFTER');
      for (const node of [a, b]) {
        for (const name of ['BEFORE', 'DURING_A', 'DURING_B', 'AFTER'])
          expect(await get(at(node), name)).toBe(`${name}-value`);
        expect((await readiness(node.url)).status).toBe(200);
      }
      const verified = JSON.parse(
        await ok(['audit', 'verify', '--org', 'acme', '--json'], at(a)),
      ) as {
        ok: boolean;
      };
      expect(verified.ok).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
  }, 180_000);
});
