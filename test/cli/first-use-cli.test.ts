import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bootstrappedServerEnv, runHush, signedInCli, spawnServer } from '../helpers/cli.js';
import { DIALECTS, tempDir } from '../helpers/databases.js';

interface Secret {
  id: string;
  name: string;
  kind: string;
  level: string;
  assignee: string | null;
  version: number;
  preview: string | null;
  value?: string;
}

// What a new user ran into on first use, each through the real `hush` binary and server.
describe.each(DIALECTS)('hush on first use on %s', (dialect) => {
  let cliEnv: Record<string, string>;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  const hush = (args: string[], stdin?: string, env: Record<string, string> = {}) =>
    runHush(args, { env: { ...cliEnv, ...env }, stdin });
  const json = async <T = unknown>(args: string[], stdin?: string): Promise<T> => {
    const r = await hush([...args, '--json'], stdin);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const list = (level: string[]) => json<Secret[]>(['secret', 'list', ...level]);

  beforeAll(async () => {
    const { serverEnv } = await bootstrappedServerEnv(dialect);
    server = await spawnServer(serverEnv);
    cliEnv = await signedInCli(server.url);
    const inv = await json<{ token: string }>([
      'member',
      'invite',
      'alice@example.com',
      '--role',
      'DevOps',
    ]);
    const accepted = await runHush(['member', 'accept', inv.token, '--password-stdin'], {
      env: { ...cliEnv, HUSH_CONFIG_DIR: tempDir() },
      stdin: 'alice password 1\n',
    });
    expect(accepted.code, accepted.stderr).toBe(0);
    for (const args of [
      ['project', 'create', 'maps'],
      ['env', 'create', 'prod', '--project', 'maps', '--type', 'production'],
      ['service', 'create', 'sync', '--project', 'maps', '--env', 'prod', '--command', 'true'],
      [
        'service',
        'create',
        'greet',
        '--project',
        'maps',
        '--command',
        `echo "hello $GREETING"; printf 'tab\\tand \\033[31mred\\n'; echo oops >&2; exit 7`,
      ],
    ]) {
      const r = await hush(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  }, 90_000);
  afterAll(() => server.stop());

  describe('hush job run --json', () => {
    it('prints NDJSON only: one object per log entry, then the result', async () => {
      const added = await hush(
        ['secret', 'add', 'env', 'GREETING', '--value-stdin', '--project', 'maps'],
        'greeting-secret-value\n',
      );
      expect(added.code, added.stderr).toBe(0);
      const r = await hush(['job', 'run', '--project', 'maps', '--service', 'greet', '--json']);
      expect(r.code).toBe(7);
      expect(r.stdout.endsWith('\n')).toBe(true);
      const lines = r.stdout.slice(0, -1).split('\n');
      const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const logs = objects.slice(0, -1);
      const result = objects.at(-1);
      expect(logs.length).toBeGreaterThan(0);
      for (const log of logs) {
        expect(log).toMatchObject({
          type: 'log',
          seq: expect.any(Number),
          stream: expect.stringMatching(/^std(out|err)$/),
          text: expect.any(String),
          at: expect.any(String),
        });
      }
      const text = (stream: string) =>
        logs
          .filter((l) => l.stream === stream)
          .map((l) => l.text as string)
          .join('');
      // The texts are the job's own (redacted), escape sequences and all: JSON carries them exactly.
      expect(text('stdout')).toBe('hello [REDACTED]\ntab\tand \u001b[31mred\n');
      expect(text('stderr')).toBe('oops\n');
      expect(r.stdout).not.toContain('\u001b');
      expect(result).toMatchObject({ type: 'result', status: 'failed', exitCode: 7 });
      expect(result?.id).toEqual(expect.any(String));
      expect(r.stderr).toContain(`job ${String(result?.id)} queued`);

      const followed = await hush(['job', 'logs', String(result?.id), '--follow', '--json']);
      expect(followed.code, followed.stderr).toBe(0);
      expect(followed.stdout).toBe(r.stdout);
    });

    it('documents the NDJSON output in --help', async () => {
      const help = await hush(['job', 'run', '--help']);
      expect(help.stdout).toContain('NDJSON');
      expect(help.stdout).toContain('{"type":"result"');
    });
  });

  describe('the level of a new secret', () => {
    it.each([
      [['secret', 'add', 'env', 'NEW_ONE', '--value-stdin'], {}],
      [['secret', 'add', 'env', 'NEW_ONE', '--value-stdin'], { HUSH_ORG: 'acme' }],
      [['secret', 'add', 'env', 'NEW_ONE', '--value-stdin', '--assignee', 'alice@example.com'], {}],
      [['secret', 'add', 'file', 'NEW_ONE', '--file-name', 'n.txt', '--value-stdin'], {}],
      [['secret', 'add', 'pgservice', '--service', 'new_one', '--host', 'db'], {}],
    ])(
      'refuses %j (env %j) with exit 2 and the level flags, and adds nothing',
      async (args, env) => {
        const before = await list(['--org', 'acme']);
        const r = await hush(args, 'value\n', env);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/^error: secret add \w+ needs a level: --org SLUG/);
        expect(r.stderr).toContain('--project P --env E');
        expect(await list(['--org', 'acme'])).toEqual(before);
        expect((await list(['--project', 'maps'])).map((s) => s.name)).not.toContain('NEW_ONE');
      },
    );

    it('adds at the organization level with --org and names kind, name, level and scope', async () => {
      const r = await hush(
        ['secret', 'add', 'env', 'ORG_KEY', '--value-stdin', '--org', 'acme'],
        'org-value-1234567890\n',
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /^Added env secret ORG_KEY at organization acme \(id [0-9a-f-]{36}\)\. Its value cannot be shown again\.\n$/,
      );
      expect((await list(['--org', 'acme'])).find((s) => s.name === 'ORG_KEY')?.level).toBe(
        'organization',
      );
    });

    it.each([
      [['--project', 'maps'], 'project maps'],
      [['--project', 'maps', '--env', 'prod'], 'project maps, environment prod'],
      [['--project', 'maps', '--service', 'sync'], 'project maps, service sync'],
      [
        ['--project', 'maps', '--assignee', 'Alice@Example.com'],
        'project maps, assigned to alice@example.com',
      ],
    ])('says where it added a secret given %j', async (level, where) => {
      const r = await hush(['secret', 'add', 'env', 'API_KEY', '--value-stdin', ...level], 'v\n');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Added env secret API_KEY at ${where} \\(id `));
    });

    it('says where it added each pg service of a pg_service.conf', async () => {
      const r = await hush([
        'secret',
        'add',
        'pgservice',
        '--service',
        'API_KEY',
        '--host',
        'db',
        '--project',
        'maps',
        '--at-service',
        'sync',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Added pgservice secret API_KEY at project maps, service sync \(/);
    });
  });

  describe('plain values', () => {
    it('adds a plain variable without the write-only warning and lists its value', async () => {
      const r = await hush([
        'secret',
        'add',
        'env',
        'LOG_LEVEL',
        '--value',
        'debug',
        '--plain',
        '--project',
        'maps',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /^Added plain env variable LOG_LEVEL at project maps \(id .*\)\.\n$/,
      );
      expect(r.stdout).not.toContain('cannot be shown again');
      const table = await hush(['secret', 'list', '--project', 'maps']);
      expect(table.stdout).toMatch(/LOG_LEVEL\s+env\s+project\s+-\s+debug\s+1/);
      // A secret's preview stays masked: API_KEY's 'v' is too short to preview at all.
      expect(table.stdout).toMatch(/API_KEY\s+env\s+project\s+-\s+-\s+1/);
    });
  });

  describe('secrets by name and level', () => {
    it('rotates, shows the history of, rolls back and removes a secret by name', async () => {
      const at = ['--project', 'maps', '--env', 'prod'];
      const rotated = await hush(['secret', 'rotate', 'API_KEY', ...at, '--value-stdin'], 'v2\n');
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout).toBe(
        'Rotated env secret API_KEY at project maps, environment prod to version 2\n',
      );
      const history = await json<{ version: number; source: string }[]>([
        'secret',
        'history',
        'API_KEY',
        ...at,
      ]);
      expect(history.map((v) => `${v.version}/${v.source}`)).toEqual(['2/rotate', '1/add']);
      const back = await hush(['secret', 'rollback', 'API_KEY', ...at, '--version', '1']);
      expect(back.code, back.stderr).toBe(0);
      expect(back.stdout).toBe(
        'Rolled back env secret API_KEY at project maps, environment prod to version 1 (now version 3)\n',
      );
      const id = (await list(at)).find((s) => s.name === 'API_KEY')?.id;
      const removed = await hush(['secret', 'rm', 'API_KEY', ...at]);
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toBe(
        `Removed env secret API_KEY at project maps, environment prod (id ${id})\n`,
      );
      expect((await list(at)).map((s) => s.name)).not.toContain('API_KEY');
    });

    it('addresses exactly the level given: organization, assignee, service', async () => {
      const org = await hush(['secret', 'rotate', 'ORG_KEY', '--org', 'acme', '--value', 'x']);
      expect(org.stdout).toBe('Rotated env secret ORG_KEY at organization acme to version 2\n');
      const alice = await hush([
        'secret',
        'rotate',
        'API_KEY',
        '--project',
        'maps',
        '--assignee',
        'alice@example.com',
        '--value',
        'x',
      ]);
      expect(alice.stdout).toBe(
        'Rotated env secret API_KEY at project maps, assigned to alice@example.com to version 2\n',
      );
      const shared = (await list(['--project', 'maps'])).find(
        (s) => s.name === 'API_KEY' && s.assignee === null,
      );
      expect(shared?.version).toBe(1);
    });

    it('tells a variable and a pg service of one name apart with pgservice:NAME', async () => {
      const at = ['--project', 'maps', '--service', 'sync'];
      const both = await hush(['secret', 'history', 'API_KEY', ...at]);
      expect(both.code).toBe(1);
      expect(both.stderr).toMatch(
        /^hush: 2 secrets named API_KEY at project maps, service sync: env \(id [0-9a-f-]+\), pgservice \(id [0-9a-f-]+\); choose one with env:API_KEY or pgservice:API_KEY, or give its id\n$/,
      );
      const pg = await hush(['secret', 'rotate', 'pgservice:API_KEY', ...at, '--set', 'port=6432']);
      expect(pg.code, pg.stderr).toBe(0);
      expect(pg.stdout).toBe(
        'Rotated pgservice secret API_KEY at project maps, service sync to version 2: changed port\n',
      );
      const env = await hush(['secret', 'rotate', 'env:API_KEY', ...at, '--value', 'x']);
      expect(env.stdout).toBe(
        'Rotated env secret API_KEY at project maps, service sync to version 2\n',
      );
    });

    it('names the name and level it did not find, and what it found instead', async () => {
      const none = await hush(['secret', 'rm', 'NOPE', '--project', 'maps', '--env', 'prod']);
      expect(none.code).toBe(1);
      expect(none.stderr).toBe('hush: no secret NOPE at project maps, environment prod\n');
      const other = await hush([
        'secret',
        'rm',
        'API_KEY',
        '--project',
        'maps',
        '--assignee',
        'bob@example.com',
      ]);
      expect(other.stderr).toMatch(
        /^hush: no secret API_KEY at project maps, assigned to bob@example.com; found instead: /,
      );
      expect(other.stderr).toContain('env, unassigned (without --assignee)');
      expect(other.stderr).toContain(
        'env assigned to alice@example.com (--assignee alice@example.com)',
      );
      const cased = await hush(['secret', 'history', 'log_level', '--project', 'maps']);
      expect(cased.stderr).toBe(
        'hush: no secret log_level at project maps; did you mean LOG_LEVEL?\n',
      );
    });

    it('refuses a name without a level with exit 2, and keeps the id form', async () => {
      const r = await hush(['secret', 'rotate', 'ORG_KEY', '--value', 'y']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^error: ORG_KEY is not an id: to name a secret, give its level: --org SLUG/,
      );
      const org = await list(['--org', 'acme']);
      const id = org.find((s) => s.name === 'ORG_KEY')?.id ?? '';
      expect(org.find((s) => s.name === 'ORG_KEY')?.version).toBe(2);
      const byId = await hush(['secret', 'rotate', id, '--value', 'y']);
      expect(byId.code, byId.stderr).toBe(0);
      expect(byId.stdout).toBe('Rotated env secret ORG_KEY at organization acme to version 3\n');
      const history = await json<unknown[]>(['secret', 'history', id]);
      expect(history).toHaveLength(3);
    });
  });

  describe('role names as the docs write them', () => {
    it.each([
      ['DevOps', 'devops'],
      ['Billing Manager', 'billing-manager'],
      ['Admin', 'admin'],
      ['billing-manager', 'billing-manager'],
    ])('invites with --role %j', async (role, slug) => {
      const email = `${role.replace(/\W/g, '').toLowerCase()}-${role === slug ? 'slug' : 'label'}@example.com`;
      const r = await hush(['member', 'invite', email, '--role', role]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Invited ${email} as ${slug}.`);
    });

    it('changes a role and creates a service token with a role given as its label', async () => {
      const set = await hush(['member', 'set-role', 'alice@example.com', 'Billing Manager']);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toBe('alice@example.com is now billing-manager\n');
      const token = await json<{ role: string }>(['token', 'create', 'ci', '--role', 'DevOps']);
      expect(token.role).toBe('devops');
      const tokens = await json<{ name: string; role: string }[]>(['token', 'list']);
      expect(tokens.find((k) => k.name === 'ci')?.role).toBe('devops');
    });

    it('still refuses a role that does not exist, naming the accepted ones', async () => {
      const r = await hush(['member', 'invite', 'x@example.com', '--role', 'Wizard']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'unknown role "wizard"; use one of Admin, DevOps, Billing Manager',
      );
    });
  });
});
