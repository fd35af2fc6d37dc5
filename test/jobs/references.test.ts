import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  jobLog,
  OWNER,
  startTestServer,
  type TestServer,
  waitForJob,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;

// Values built from other values, end to end: a real job in the sandbox receives what the
// references, aliases and derived variables build, in its member's view, redacted from its log;
// what cannot be built fails the job before it starts, naming the chain.
describe.each(DIALECTS)('references, aliases and derived variables on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let alice: string;
  let bob: string;
  const ids = new Map<string, string>();

  const add = async (
    where: Record<string, string>,
    secret: Record<string, unknown>,
    as = owner,
  ) => {
    const res = await t.call('POST', `${O}/secrets`, { token: as, body: { ...where, secret } });
    expect(res.status, res.text).toBe(201);
    const created = (res.body as { id: string; name: string; warnings?: string[] }[])[0]!;
    ids.set(`${JSON.stringify(where)}:${created.name}`, created.id);
    return created;
  };
  const run = async (token: string, where: Record<string, string>, script: string) => {
    const res = await t.call('POST', `${O}/jobs`, {
      token,
      body: { ...where, command: ['/bin/sh', '-c', script] },
    });
    expect(res.status, res.text).toBe(201);
    const job = await waitForJob(t, token, res.body.id);
    return { job, log: await jobLog(t, token, res.body.id) };
  };
  const explain = async (query: string, token = owner) => {
    const res = await t.call('GET', `${O}/secrets/resolve?${query}`, { token });
    expect(res.status, res.text).toBe(200);
    return new Map(
      (res.body as { name: string; builtFrom?: unknown[]; error?: string }[]).map((e) => [
        e.name,
        e,
      ]),
    );
  };

  beforeAll(async () => {
    t = await startTestServer(dialect, {}, { workers: 1 });
    owner = await bootstrapOwner(t);
    alice = await addMember(t, owner, 'alice@example.com', 'devops');
    bob = await addMember(t, owner, 'bob@example.com', 'devops');
    for (const slug of ['maps', 'tiles', 'loops'])
      await t.call('POST', `${O}/projects`, { token: owner, body: { slug } });
    await t.call('POST', `${O}/projects/tiles/environments`, {
      token: owner,
      body: { slug: 'prod', type: 'production' },
    });
    await add({}, { kind: 'env', name: 'DB_HOST', value: 'db.internal' });
    await add({}, { kind: 'env', name: 'DB_PASS', value: 'org-pass-0123456789' });
    await add(
      { project: 'maps' },
      { kind: 'env', name: 'DB_PASS', value: 'alice-pass-0123456789' },
    );
    await add(
      { project: 'maps' },
      { kind: 'env', name: 'DB_URL', value: 'pg://app:${DB_PASS}@${DB_HOST}/gis' },
    );
    await add({ project: 'maps' }, { kind: 'env', name: 'ORG_PASS', value: '${org.DB_PASS}' });
    await add(
      { project: 'maps' },
      { kind: 'env', name: 'PRICE', value: 'costs $${HALF} and $5', sensitivity: 'plain' },
    );
    await add(
      { project: 'maps' },
      {
        kind: 'env',
        name: 'LITERAL',
        value: 'stays ${AS_IS}',
        expand: false,
        sensitivity: 'plain',
      },
    );
    await add(
      { project: 'tiles', env: 'prod' },
      { kind: 'env', name: 'TILE_KEY', value: 'tile-key-abcdef012345' },
    );
    await add(
      { project: 'maps' },
      { kind: 'env', name: 'TILES', value: 'key=${tiles.prod.TILE_KEY}' },
    );
    await add(
      { project: 'maps' },
      {
        kind: 'pgservice',
        name: 'main-db',
        settings: {
          host: 'pg.internal',
          port: '5432',
          dbname: 'gis',
          user: 'gis_app',
          password: 'p@ss/w:rd 42?',
        },
        exportEnv: true,
      },
    );
    await add(
      { project: 'maps' },
      { kind: 'alias', name: 'DATABASE_URL', target: 'HUSH_PG_MAIN_DB_URL' },
    );
  }, 90_000);
  afterAll(() => t.close());

  it('gives a job the built values, every part redacted from its log', async () => {
    const { job, log } = await run(
      owner,
      { project: 'maps' },
      'echo "$DB_URL|$ORG_PASS|$PRICE|$LITERAL|$TILES"; echo "$HUSH_PG_MAIN_DB_USER@$HUSH_PG_MAIN_DB_HOST:$HUSH_PG_MAIN_DB_PORT/$HUSH_PG_MAIN_DB_DBNAME"; printf "%s\\n" "$DATABASE_URL" | sed "s/postgresql:/X/"; printf "%s\\n" "$HUSH_PG_MAIN_DB_URL" | cut -d: -f3 | cut -d@ -f1; printf "%s" "$TILES" | cut -d= -f2',
    );
    expect(job.status, log).toBe('succeeded');
    const lines = log.split('\n');
    // The whole built values are redacted, and so is each secret part taken on its own.
    expect(lines[0]).toBe('[REDACTED]|[REDACTED]|costs ${HALF} and $5|stays ${AS_IS}|[REDACTED]');
    expect(lines[1]).toBe('gis_app@pg.internal:5432/gis');
    // The URL's percent-encoded password is redacted as well as the raw one.
    expect(lines[2]).not.toContain('p%40ss');
    expect(lines[3]).toBe('[REDACTED]');
    expect(lines[4]).toBe('[REDACTED]');
    for (const v of ['org-pass-0123456789', 'tile-key-abcdef012345', 'p%40ss%2Fw%3Ard%2042%3F'])
      expect(log).not.toContain(v);
  });

  it('shows what a value is built from in the resolve view, never a value', async () => {
    const view = await explain('project=maps');
    expect(view.get('DB_URL')?.builtFrom).toEqual([
      { via: '${DB_PASS}', name: 'DB_PASS', kind: 'env', level: 'project', version: 1, depth: 1 },
      {
        via: '${DB_HOST}',
        name: 'DB_HOST',
        kind: 'env',
        level: 'organization',
        version: 1,
        depth: 1,
      },
    ]);
    expect(view.get('TILES')?.builtFrom).toEqual([
      expect.objectContaining({ name: 'TILE_KEY', context: 'tiles/prod', level: 'environment' }),
    ]);
    expect(view.get('DATABASE_URL')?.builtFrom).toEqual([
      expect.objectContaining({
        via: 'alias of HUSH_PG_MAIN_DB_URL',
        name: 'HUSH_PG_MAIN_DB_URL',
        depth: 1,
      }),
      expect.objectContaining({ via: 'pgservice main-db', kind: 'pgservice', depth: 2 }),
    ]);
    expect(view.get('HUSH_PG_MAIN_DB_PASSWORD')?.builtFrom).toHaveLength(1);
    const text = JSON.stringify([...view.values()]);
    for (const v of ['org-pass', 'alice-pass', 'tile-key', 'p@ss']) expect(text).not.toContain(v);
  });

  it('resolves a reference in the member view: an override assigned to the member who runs it', async () => {
    await add({ project: 'maps' }, { kind: 'env', name: 'DB_HOST', value: 'alice-laptop.local' });
    const mine = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: {
        project: 'maps',
        assignee: 'alice@example.com',
        secret: { kind: 'env', name: 'DB_PASS', value: 'only-alice-sees-this-1' },
      },
    });
    expect(mine.status, mine.text).toBe(201);
    const byAlice = await run(alice, { project: 'maps' }, 'printf "%s" "$DB_URL" | sha256sum');
    const byBob = await run(bob, { project: 'maps' }, 'printf "%s" "$DB_URL" | sha256sum');
    expect(byAlice.job.status, byAlice.log).toBe('succeeded');
    expect(byBob.job.status, byBob.log).toBe('succeeded');
    // The log shows digests: the values themselves are redacted.
    const digest = (v: string) => `${createHash('sha256').update(v).digest('hex')}  -\n`;
    expect(byAlice.log).toBe(digest('pg://app:only-alice-sees-this-1@alice-laptop.local/gis'));
    expect(byBob.log).toBe(digest('pg://app:alice-pass-0123456789@alice-laptop.local/gis'));
    const asAlice = await explain('project=maps&member=alice%40example.com');
    expect(asAlice.get('DB_URL')?.builtFrom).toContainEqual(
      expect.objectContaining({ name: 'DB_PASS', level: 'project', version: 1 }),
    );
  });

  it('fails a job whose references form a cycle or miss their target, naming the chain', async () => {
    await add({ project: 'loops' }, { kind: 'env', name: 'A', value: 'a-${B}' });
    await add({ project: 'loops' }, { kind: 'env', name: 'B', value: 'b-${C}' });
    await add({ project: 'loops' }, { kind: 'env', name: 'C', value: 'c-${A}' });
    const missing = await add(
      { project: 'loops' },
      { kind: 'env', name: 'D', value: '${NOWHERE}' },
    );
    expect(missing.warnings).toEqual([
      '${NOWHERE}: no secret of the organization is named NOWHERE (yet)',
    ]);
    const { job, log } = await run(owner, { project: 'loops' }, 'echo should not run');
    expect(job.status).toBe('failed');
    expect(log).not.toContain('should not run');
    expect(job.error).toContain('A → B → C → A: the references form a cycle');
    expect(job.error).toContain('D → NOWHERE: NOWHERE is not defined in loops');
    const view = await explain('project=loops');
    expect(view.get('B')?.error).toBe('B → C → A → B: the references form a cycle');
    expect(view.get('D')?.error).toBe('D → NOWHERE: NOWHERE is not defined in loops');
  });

  it('refuses a reference that does not parse, naming the character', async () => {
    const res = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: { project: 'maps', secret: { kind: 'env', name: 'BAD', value: 'x ${db_host}' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('character 3');
    const open = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: { project: 'maps', secret: { kind: 'env', name: 'BAD', value: 'abc ${DB' } },
    });
    expect(open.status).toBe(400);
    expect(open.body.error.message).toContain('character 5: "${" is not closed');
    const list = await t.call('GET', `${O}/secrets?project=maps`, { token: owner });
    expect((list.body as { name: string }[]).some((s) => s.name === 'BAD')).toBe(false);
  });

  it('refuses a pg service whose derived names another one already has', async () => {
    const res = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: { secret: { kind: 'pgservice', name: 'MAIN_db', settings: { host: 'h' } } },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('HUSH_PG_MAIN_DB_* with pg service main-db');
  });

  it('takes another context only where the reader could read it itself', async () => {
    // A token limited to maps cannot read tiles/prod: the runtime read names why.
    const token = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'maps-only', role: 'devops', projects: ['maps'] },
    });
    expect(token.status, token.text).toBe(201);
    const read = await t.call('GET', `${O}/runtime/secrets?project=maps`, {
      token: token.body.token,
    });
    expect(read.status).toBe(409);
    expect(read.body.error.code).toBe('REFERENCE_FAILED');
    expect(read.body.error.message).toContain(
      'TILES → tiles.prod.TILE_KEY: tiles/prod does not exist or this token may not read its values',
    );
    expect(read.text).not.toContain('tile-key');
    // A job the token starts is held to the same rule, by the token it records.
    const byToken = await run(token.body.token, { project: 'maps' }, 'echo should not run');
    expect(byToken.job.status).toBe('failed');
    expect(byToken.job.error).toContain(
      'TILES → tiles.prod.TILE_KEY: tiles/prod does not exist or token maps-only may not run jobs in it',
    );
    // A token of the whole organization reads it, and the ETag moves when the target rotates.
    const wide = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'wide', role: 'devops' },
    });
    const first = await t.call('GET', `${O}/runtime/secrets?project=maps`, {
      token: wide.body.token,
    });
    expect(first.status, first.text).toBe(200);
    const tiles = (first.body.secrets ?? first.body) as { name: string; value?: string }[];
    expect(tiles.find((s) => s.name === 'TILES')?.value).toBe('key=tile-key-abcdef012345');
    const rotated = await t.call(
      'POST',
      `${O}/secrets/${ids.get('{"project":"tiles","env":"prod"}:TILE_KEY')}/rotate`,
      {
        token: owner,
        body: { kind: 'env', value: 'tile-key-rotated-98765' },
      },
    );
    expect(rotated.status, rotated.text).toBe(200);
    const second = await t.call('GET', `${O}/runtime/secrets?project=maps`, {
      token: wide.body.token,
      headers: { 'if-none-match': first.headers.etag as string },
    });
    expect(second.status).toBe(200);
    expect(second.headers.etag).not.toBe(first.headers.etag);
    const wideJob = await run(
      wide.body.token,
      { project: 'maps' },
      'printf "%s" "$TILES" | sha256sum',
    );
    expect(wideJob.job.status, wideJob.log).toBe('succeeded');
    expect(wideJob.log).toBe(
      `${createHash('sha256').update('key=tile-key-rotated-98765').digest('hex')}  -\n`,
    );
    const values = (second.body.secrets ?? second.body) as { name: string; value?: string }[];
    expect(values.find((s) => s.name === 'TILES')?.value).toBe('key=tile-key-rotated-98765');
  });
  it('reads one built value by name: plain ones for people, the rest for tokens', async () => {
    const get = (name: string, token: string) =>
      t.call('GET', `${O}/secrets/value?project=maps&name=${name}`, { token });
    const price = await get('PRICE', owner);
    expect(price.status, price.text).toBe(200);
    expect(price.body.value).toBe('costs ${HALF} and $5');
    expect((await get('DB_URL', owner)).status).toBe(403);
    const token = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name: 'reader', role: 'devops' },
    });
    const url = await get('HUSH_PG_MAIN_DB_URL', token.body.token);
    expect(url.status, url.text).toBe(200);
    expect(url.body.value).toBe(
      'postgresql://gis_app:p%40ss%2Fw%3Ard%2042%3F@pg.internal:5432/gis',
    );
    const user = await get('HUSH_PG_MAIN_DB_USER', owner);
    expect(user.body.value).toBe('gis_app');
    expect(JSON.stringify(url.body)).not.toContain('parts');
  });

  it('takes references in a bulk set, and names a bad one by its entry and character', async () => {
    const bad = await t.call('POST', `${O}/secrets/set`, {
      token: owner,
      body: {
        project: 'loops',
        secrets: [
          { name: 'OK_ONE', value: 'fine' },
          { name: 'BROKEN', value: 'ab${c' },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields).toEqual([
      { field: 'secrets.1.value', message: expect.stringContaining('BROKEN: character 3') },
    ]);
    const set = await t.call('POST', `${O}/secrets/set`, {
      token: owner,
      body: {
        project: 'loops',
        secrets: [
          { name: 'USES_NEW', value: '${NEW_ONE}' },
          { name: 'NEW_ONE', value: 'x' },
          { name: 'USES_NONE', value: '${NEVER_ANYWHERE}' },
        ],
      },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.body.secrets.map((o: { warnings?: string[] }) => o.warnings)).toEqual([
      undefined,
      undefined,
      ['${NEVER_ANYWHERE}: no secret of the organization is named NEVER_ANYWHERE (yet)'],
    ]);
    const imported = await t.call('POST', `${O}/secrets/import`, {
      token: owner,
      body: {
        project: 'tiles',
        env: 'prod',
        format: 'dotenv',
        text: 'TILE_URL="https://t/${TILE_KEY}"\n',
      },
    });
    expect(imported.status, imported.text).toBe(200);
    const view = await explain('project=tiles&env=prod');
    expect(view.get('TILE_URL')?.builtFrom).toEqual([
      expect.objectContaining({ name: 'TILE_KEY', level: 'environment' }),
    ]);
  });

  it('keeps a variable that steers what a job runs literal, and refuses an alias for one', async () => {
    const steering = await add(
      { project: 'maps' },
      { kind: 'env', name: 'NODE_OPTIONS', value: '--require ${HOOK}' },
    );
    expect(steering).not.toHaveProperty('references');
    const alias = await t.call('POST', `${O}/secrets`, {
      token: owner,
      body: { project: 'maps', secret: { kind: 'alias', name: 'BASH_ENV', target: 'DB_URL' } },
    });
    expect(alias.status).toBe(400);
    expect(alias.body.error.message).toContain('BASH_ENV steers what a job runs');
    const { job, log } = await run(
      owner,
      { project: 'maps' },
      'printf "%s" "$NODE_OPTIONS" | sha256sum',
    );
    expect(job.status, log).toBe('succeeded');
    expect(log).toBe(`${createHash('sha256').update('--require ${HOOK}').digest('hex')}  -\n`);
  });

  it('lets only someone who could read another environment write a reference to it', async () => {
    await t.call('POST', `${O}/projects/maps/environments`, {
      token: owner,
      body: { slug: 'dev', type: 'development' },
    });
    const role = await t.call('POST', `${O}/roles`, {
      token: owner,
      body: {
        name: 'maps-dev',
        grants: [{ project: 'maps', type: 'development', level: 'deploy' }],
      },
    });
    expect(role.status, role.text).toBe(201);
    const carol = await addMember(t, owner, 'carol@example.com', 'maps-dev');
    const denied = await t.call('POST', `${O}/secrets`, {
      token: carol,
      body: {
        project: 'maps',
        env: 'dev',
        secret: { kind: 'env', name: 'STOLEN', value: '${tiles.prod.TILE_KEY}' },
      },
    });
    expect(denied.status, denied.text).toBe(403);
    expect(denied.body.error.code).toBe('PERMISSION_DENIED');
    const own = await add(
      { project: 'maps', env: 'dev' },
      { kind: 'env', name: 'MINE', value: 'at ${org.DB_HOST}' },
      carol,
    );
    expect(own.name).toBe('MINE');
    // A missing environment is refused in the same words: a reference cannot probe for one.
    await add(
      { project: 'maps', env: 'dev' },
      { kind: 'env', name: 'GHOST', value: '${ghost.prod.TILE_KEY}' },
    );
    // Written by the owner, the reference still reads nothing for carol's jobs.
    await add(
      { project: 'maps', env: 'dev' },
      { kind: 'env', name: 'PROD_KEY', value: '${tiles.prod.TILE_KEY}' },
    );
    await t.call('POST', `${O}/projects/maps/services`, {
      token: owner,
      body: { name: 'dev-job', environment: 'dev', command: 'echo should not run' },
    });
    const started = await t.call('POST', `${O}/jobs`, {
      token: carol,
      body: { project: 'maps', service: 'dev-job' },
    });
    expect(started.status, started.text).toBe(201);
    const job = await waitForJob(t, carol, started.body.id);
    const log = await jobLog(t, carol, started.body.id);
    expect(job.status).toBe('failed');
    expect(log).not.toContain('should not run');
    expect(job.error).toContain(
      'PROD_KEY → tiles.prod.TILE_KEY: tiles/prod does not exist or carol@example.com may not run jobs in it',
    );
    expect(job.error).toContain(
      'GHOST → ghost.prod.TILE_KEY: ghost/prod does not exist or carol@example.com may not run jobs in it',
    );
  });

  it('writes no value into the audit log', async () => {
    const events = await t.app.database.db.selectFrom('auditEvents').selectAll().execute();
    const text = JSON.stringify(events);
    for (const v of ['org-pass-0123456789', 'alice-pass', 'tile-key-', 'p@ss/w:rd', 'only-alice'])
      expect(text).not.toContain(v);
  });
});
