import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/databases.js';

describe.each(DIALECTS)('hush admin on %s', (dialect) => {
  it('rotates the master key while the server runs; old and new secrets stay readable', async () => {
    const { db, serverEnv } = await bootstrappedServerEnv(dialect);
    expect((await runHush(['admin', 'migrate'], { env: serverEnv })).stdout).toContain(
      'up to date',
    );
    const again = await runHush(
      ['admin', 'bootstrap', '--email', 'x@example.com', '--org', 'other', '--password-stdin'],
      { env: serverEnv, stdin: 'another password\n' },
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already has accounts');

    const server = await spawnServer(serverEnv);
    try {
      const cli = await signedInCli(server.url);
      const hush = (args: string[], stdin?: string) => runHush(args, { env: cli, stdin });
      await hush(['project', 'create', 'maps']);
      await hush([
        'service',
        'create',
        'show',
        '--project',
        'maps',
        '--command',
        'echo "${#OLD_SECRET} ${#NEW_SECRET}"',
      ]);
      await hush(
        ['secret', 'add', 'env', 'OLD_SECRET', '--value-stdin', '--project', 'maps'],
        'before-rotation-value\n',
      );

      const before = JSON.parse(fs.readFileSync(path.join(db.dataDir, 'master.key'), 'utf8')) as {
        active: string;
      };
      const rotate = await runHush(['admin', 'rotate-master-key', '--retire-old', '--json'], {
        env: serverEnv,
      });
      expect(rotate.code, rotate.stderr).toBe(0);
      const result = JSON.parse(rotate.stdout) as { masterKeyId: string; rewrapped: number };
      expect(result.masterKeyId).not.toBe(before.active);
      expect(result.rewrapped).toBe(1);
      const file = JSON.parse(fs.readFileSync(path.join(db.dataDir, 'master.key'), 'utf8')) as {
        keys: Record<string, string>;
      };
      expect(Object.keys(file.keys)).toEqual([result.masterKeyId]);

      // The running server reads old values and wraps a new organization's key with the new one.
      await hush(['org', 'create', 'after-rotation']);
      await hush(
        [
          'secret',
          'add',
          'env',
          'NEW_SECRET',
          '--value-stdin',
          '--project',
          'maps',
          '--org',
          'acme',
        ],
        'after-rotation-value\n',
      );
      const run = await hush([
        'job',
        'run',
        '--project',
        'maps',
        '--service',
        'show',
        '--org',
        'acme',
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('21 20\n');
      await hush([
        'secret',
        'add',
        'env',
        'MODE',
        '--value',
        'fresh-org-value',
        '--plain',
        '--org',
        'after-rotation',
      ]);
      const listed = JSON.parse(
        (await hush(['secret', 'list', '--org', 'after-rotation', '--json'])).stdout,
      ) as { value: string }[];
      expect(listed[0]?.value).toBe('fresh-org-value');
    } finally {
      await server.stop();
    }
    const restarted = await spawnServer(serverEnv);
    await restarted.stop();
  }, 90_000);
});
