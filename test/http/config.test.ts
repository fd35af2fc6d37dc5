import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { configJsonSchema } from '../../src/domain/config/config-schema.js';
import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const P = `/api/v1/orgs/${OWNER.org}`;

describe.each(DIALECTS)('configuration as code over REST on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  const projects = async () =>
    ((await t.call('GET', `${P}/projects`, { token: owner })).body as { slug: string }[])
      .map((p) => p.slug)
      .sort();

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
  });
  afterAll(() => t?.close());

  it('serves the JSON Schema of hush.yaml to anyone, as docs/hush.schema.json has it', async () => {
    const r = await t.call('GET', '/api/v1/hush.schema.json');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(configJsonSchema());
  });

  it('answers a bad file with 400 naming file, line and path, and writes nothing', async () => {
    const r = await t.call('POST', `${P}/config/apply`, {
      token: owner,
      body: {
        file: 'ci/hush.yaml',
        source:
          'organization: acme\nprojects:\n  ok1: {}\n  Bad_Slug: {}\n  ok2:\n    colour: red\n',
      },
    });
    expect(r.status).toBe(400);
    const fields = (
      r.body as { error: { details: { fields: { field: string; message: string }[] } } }
    ).error.details.fields;
    expect(fields.map((f) => f.field)).toEqual([
      'hush.yaml:4 projects.Bad_Slug',
      'hush.yaml:6 projects.ok2',
    ]);
    expect(fields[1]!.message).toBe('unknown field "colour"');
    expect(await projects()).toEqual([]);
    const yaml = await t.call('POST', `${P}/config/plan`, {
      token: owner,
      body: { source: 'organization: acme\nprojects: [\n' },
    });
    expect(yaml.status).toBe(400);
    expect(JSON.stringify(yaml.body)).toMatch(/hush\.yaml:\d/);
  });

  it('takes no name of Object.prototype for a declared one (a grant on "constructor")', async () => {
    const r = await t.call('POST', `${P}/config/apply`, {
      token: owner,
      body: {
        source:
          'organization: acme\nroles:\n  r1:\n    grants:\n      - { project: constructor, type: staging, level: deploy }\n',
        prune: true,
      },
    });
    expect(r.status, r.text).toBe(400);
    expect(r.text).toContain('project \\"constructor\\" is not a project of acme');
  });

  it('refuses a file of another organization', async () => {
    const r = await t.call('POST', `${P}/config/plan`, {
      token: owner,
      body: { source: 'organization: other\n' },
    });
    expect(r.status).toBe(400);
    expect((r.body as { error: { message: string } }).error.message).toContain(
      'hush.yaml:1 organization: is "other", but this is organization acme',
    );
  });

  it('lets one of an apply and a concurrent create of the same project win, whole', async () => {
    const source = [
      'organization: acme',
      'projects:',
      ...Array.from(
        { length: 20 },
        (_, i) => `  bulk-${i}: { environments: { prod: { type: production } } }`,
      ),
      '  race: {}',
    ].join('\n');
    const [applied, created] = await Promise.all([
      t.call('POST', `${P}/config/apply`, { token: owner, body: { source } }),
      t.call('POST', `${P}/projects`, { token: owner, body: { slug: 'race' } }),
    ]);
    const slugs = await projects();
    if (applied.status === 200) {
      // The apply committed first: the create found the slug taken.
      expect(created.status).toBe(409);
      expect(slugs).toHaveLength(21);
    } else {
      expect(created.status).toBe(201);
      expect(applied.status).toBe(409);
      expect(slugs).toEqual(['race']);
    }
  });

  it('refuses a service token confined to a project: a plan reads the whole organization', async () => {
    await t.call('POST', `${P}/projects`, { token: owner, body: { slug: 'scoped' } });
    const tok = await t.call('POST', `${P}/tokens`, {
      token: owner,
      body: { name: 'ci-scoped', role: 'admin', projects: ['scoped'] },
    });
    expect(tok.status, tok.text).toBe(201);
    const r = await t.call('POST', `${P}/config/plan`, {
      token: (tok.body as { token: string }).token,
      body: { source: 'organization: acme\n' },
    });
    expect(r.status).toBe(403);
    const unscoped = await t.call('POST', `${P}/tokens`, {
      token: owner,
      body: { name: 'ci', role: 'admin' },
    });
    const ok = await t.call('POST', `${P}/config/plan`, {
      token: (unscoped.body as { token: string }).token,
      body: { source: 'organization: acme\n' },
    });
    expect(ok.status, ok.text).toBe(200);
  });
});
