import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RequestContext } from '../../src/domain/context.js';
import { notAMember } from '../../src/domain/orgs/member-suggest.js';
import { findUserByEmail } from '../../src/store/account-store.js';
import { findOrganizationBySlug } from '../../src/store/org-store.js';
import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;
const S = `${O}/secrets`;
const M = `${O}/projects/maps`;

interface Probe {
  what: string;
  method: string;
  url: string;
  body?: unknown;
  code: string;
  suggestions: string[];
}

describe.each(DIALECTS)('"did you mean …?" on not-found answers on %s', (dialect) => {
  let t: TestServer;
  const tokens = new Map<string, string>();
  const as = (who: string) => tokens.get(who)!;
  const ask = (who: string, method: string, url: string, body?: unknown) =>
    t.call(method, url, { token: as(who), body });
  const suggestionsOf = async (who: string, url: string) => {
    const res = await ask(who, 'GET', url);
    expect(res.status, res.text).toBe(404);
    return res.body.error.details.suggestions as string[];
  };

  beforeAll(async () => {
    t = await startTestServer(dialect);
    const owner = await bootstrapOwner(t);
    tokens.set('owner', owner);
    const setup = async (url: string, body: unknown) => {
      const res = await t.call('POST', url, { token: owner, body });
      expect(res.status, `${url}: ${res.text}`).toBe(201);
      return res.body;
    };
    for (const slug of ['maps', 'billing', 'web']) await setup(`${O}/projects`, { slug });
    await setup(`${M}/environments`, { slug: 'prod', type: 'production' });
    await setup(`${M}/environments`, { slug: 'staging', type: 'staging' });
    await setup(`${M}/services`, { name: 'sync', environment: 'prod', command: 'true' });
    await setup(`${M}/services`, { name: 'report', environment: 'staging', command: 'true' });
    await setup(`${M}/services`, { name: 'cleanup', command: 'true' });
    await setup(`${O}/roles`, {
      name: 'stage-reader',
      grants: [{ project: 'maps', type: 'staging', level: 'read-only' }],
    });
    tokens.set('alice', await addMember(t, owner, 'alice@example.com', 'admin'));
    tokens.set('viewer', await addMember(t, owner, 'vic@example.com', 'viewer'));
    tokens.set('billing', await addMember(t, owner, 'bill@example.com', 'billing-manager'));
    tokens.set('stage-reader', await addMember(t, owner, 'sam@example.com', 'stage-reader'));
    const web = await setup(`${O}/tokens`, { name: 'web-only', role: 'devops', projects: ['web'] });
    tokens.set('web-token', web.token as string);
    const prod = await setup(`${O}/tokens`, {
      name: 'prod-only',
      role: 'devops',
      environments: ['maps/prod'],
    });
    tokens.set('prod-token', prod.token as string);
    // Another organization, with a look-alike project and a member of its own only.
    await setup('/api/v1/orgs', { slug: 'globex' });
    await setup('/api/v1/orgs/globex/projects', { slug: 'mapy' });
    await addMember(t, owner, 'zed@example.com', 'viewer', 'globex');
  }, 90_000);
  afterAll(() => t.close());

  const OWNER_PROBES: Probe[] = [
    {
      what: 'a misspelt project of a secret level',
      method: 'GET',
      url: `${S}?project=mapz`,
      code: 'PROJECT_NOT_FOUND',
      suggestions: ['maps'],
    },
    {
      what: 'a misspelt project shown',
      method: 'GET',
      url: `${O}/projects/mapz`,
      code: 'PROJECT_NOT_FOUND',
      suggestions: ['maps'],
    },
    {
      what: 'a misspelt project to create an environment in',
      method: 'POST',
      url: `${O}/projects/mpas/environments`,
      body: { slug: 'dev', type: 'development' },
      code: 'PROJECT_NOT_FOUND',
      suggestions: ['maps'],
    },
    {
      what: 'a misspelt environment of a secret level',
      method: 'GET',
      url: `${S}?project=maps&env=stagign`,
      code: 'ENVIRONMENT_NOT_FOUND',
      suggestions: ['staging'],
    },
    {
      what: 'a misspelt environment to delete',
      method: 'DELETE',
      url: `${M}/environments/prdo`,
      code: 'ENVIRONMENT_NOT_FOUND',
      suggestions: ['prod'],
    },
    {
      what: 'a misspelt environment of a new service',
      method: 'POST',
      url: `${M}/services`,
      body: { name: 'new', environment: 'staing', command: 'true' },
      code: 'ENVIRONMENT_NOT_FOUND',
      suggestions: ['staging'],
    },
    {
      what: 'a misspelt service of a secret level',
      method: 'GET',
      url: `${S}?project=maps&service=synk`,
      code: 'SERVICE_NOT_FOUND',
      suggestions: ['sync'],
    },
    {
      what: 'a misspelt service to delete',
      method: 'DELETE',
      url: `${M}/services/cleanpu`,
      code: 'SERVICE_NOT_FOUND',
      suggestions: ['cleanup'],
    },
    {
      what: 'a misspelt member whose role is changed',
      method: 'PATCH',
      url: `${O}/members/alcie@example.com`,
      body: { role: 'viewer' },
      code: 'MEMBER_NOT_FOUND',
      suggestions: ['alice@example.com'],
    },
    {
      what: 'a misspelt member to remove',
      method: 'DELETE',
      url: `${O}/members/vick@example.com`,
      code: 'MEMBER_NOT_FOUND',
      suggestions: ['vic@example.com'],
    },
    {
      what: 'a project nothing is close to',
      method: 'GET',
      url: `${S}?project=zzzzzz`,
      code: 'PROJECT_NOT_FOUND',
      suggestions: [],
    },
  ];

  it.each(OWNER_PROBES)(
    'answers $what with 404 $code and the close names in details.suggestions',
    async ({ method, url, body, code, suggestions }) => {
      const before = await counts();
      const res = await ask('owner', method, url, body);
      expect(res.status, res.text).toBe(404);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.details).toEqual({ suggestions });
      // The message names the caller's name, not the suggestion.
      for (const s of suggestions) expect(res.body.error.message).not.toContain(s);
      expect(await counts()).toEqual(before);
    },
  );

  it('keeps the message as it was', async () => {
    const res = await ask('owner', 'GET', `${S}?project=mapz`);
    expect(res.body.error.message).toBe('project "mapz" not found');
  });

  it('suggests to a token limited to project web only web, never a project outside it', async () => {
    expect(await suggestionsOf('web-token', `${S}?project=mapz`)).toEqual([]);
    expect(await suggestionsOf('web-token', `${O}/projects/mapz`)).toEqual([]);
    expect(await suggestionsOf('web-token', `${S}?project=wbe`)).toEqual(['web']);
    // The owner, asking the same, is told of maps.
    expect(await suggestionsOf('owner', `${S}?project=mapz`)).toEqual(['maps']);
  });

  it('suggests to a token limited to maps/prod only that environment and what runs in it', async () => {
    expect(await suggestionsOf('prod-token', `${S}?project=maps&env=stagign`)).toEqual([]);
    expect(await suggestionsOf('prod-token', `${S}?project=maps&env=prdo`)).toEqual(['prod']);
    expect(await suggestionsOf('prod-token', `${S}?project=maps&service=reprot`)).toEqual([]);
    expect(await suggestionsOf('prod-token', `${S}?project=maps&service=synk`)).toEqual(['sync']);
    // A project-wide service is listed with the project.
    expect(await suggestionsOf('prod-token', `${S}?project=maps&service=cleanpu`)).toEqual([
      'cleanup',
    ]);
  });

  it('suggests to a custom role only the projects and environment types it is granted', async () => {
    expect(await suggestionsOf('stage-reader', `${S}?project=mapz`)).toEqual(['maps']);
    expect(await suggestionsOf('stage-reader', `${S}?project=bilings`)).toEqual([]);
    expect(await suggestionsOf('stage-reader', `${S}?project=maps&env=prdo`)).toEqual([]);
    expect(await suggestionsOf('stage-reader', `${S}?project=maps&env=stagign`)).toEqual([
      'staging',
    ]);
    expect(await suggestionsOf('stage-reader', `${S}?project=maps&service=synk`)).toEqual([]);
    expect(await suggestionsOf('stage-reader', `${S}?project=maps&service=reprot`)).toEqual([
      'report',
    ]);
  });

  it('suggests projects to a Viewer, none to a Billing Manager, and audits no denial for it', async () => {
    expect(await suggestionsOf('viewer', `${S}?project=mapz`)).toEqual(['maps']);
    const before = await counts();
    expect(await suggestionsOf('billing', `${S}?project=mapz`)).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it('never suggests a project or a member of another organization', async () => {
    // globex has project mapy and member zed; alice belongs to acme only.
    expect(await suggestionsOf('alice', `${S}?project=mapq`)).toEqual(['maps']);
    const member = await ask('alice', 'PATCH', `${O}/members/zedd@example.com`, { role: 'viewer' });
    expect(member.status).toBe(404);
    expect(member.body.error).toMatchObject({
      code: 'MEMBER_NOT_FOUND',
      details: { suggestions: [] },
    });
    // Not even to the owner, who belongs to both.
    const owner = await ask('owner', 'DELETE', `${O}/members/zedd@example.com`);
    expect(owner.body.error.details).toEqual({ suggestions: [] });
    // An organization alice is not in answers as if it did not exist, with nothing to suggest.
    const outside = await ask('alice', 'GET', `/api/v1/orgs/globex/secrets?project=mapz`);
    expect(outside.status).toBe(404);
    expect(outside.body.error).toEqual({
      code: 'ORGANIZATION_NOT_FOUND',
      message: 'organization "globex" not found',
      details: {},
    });
  });

  describe('notAMember (for assignee and member fields)', () => {
    const contextOf = async (email: string): Promise<RequestContext> => {
      const user = await findUserByEmail(t.app.database.db, email);
      return { actor: { kind: 'user', userId: user!.id, email }, tool: 'api', ip: null };
    };
    const acme = async () => (await findOrganizationBySlug(t.app.database.db, OWNER.org))!;

    it('is VALIDATION_FAILED naming the field, with the close members of the organization', async () => {
      const error = await notAMember(
        t.app.database.db,
        await contextOf('alice@example.com'),
        await acme(),
        'alcie@example.com',
        'assignee',
      );
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.message).toBe('assignee: alcie@example.com is not a member of acme');
      expect(error.details).toEqual({
        fields: [{ field: 'assignee', message: 'alcie@example.com is not a member of acme' }],
        suggestions: ['alice@example.com'],
      });
    });

    it('suggests nothing from another organization, nor to someone outside this one', async () => {
      const db = t.app.database.db;
      const alice = await contextOf('alice@example.com');
      const zed = await contextOf('zed@example.com');
      expect(
        (await notAMember(db, alice, await acme(), 'zedd@example.com', 'member')).details,
      ).toMatchObject({ suggestions: [] });
      expect(
        (await notAMember(db, zed, await acme(), 'alcie@example.com', 'member')).details,
      ).toMatchObject({ suggestions: [] });
    });
  });

  async function counts() {
    const db = t.app.database.db;
    const n = async (table: 'auditEvents' | 'environments' | 'services' | 'members') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      audit: await n('auditEvents'),
      environments: await n('environments'),
      services: await n('services'),
      members: await n('members'),
    };
  }
});
