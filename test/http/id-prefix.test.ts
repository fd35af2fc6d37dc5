import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SHORT_ID_LENGTH, shortId } from '../../console/src/short-id.js';
import { MIN_ID_PREFIX } from '../../src/domain/ids.js';
import { idPrefixUpperBound } from '../../src/store/id-prefix.js';
import { findJobsByIdPrefix } from '../../src/store/job-store.js';
import { bootstrapOwner, OWNER, startTestServer, type TestServer } from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const O = `/api/v1/orgs/${OWNER.org}`;

describe('the upper bound of an id prefix', () => {
  it.each([
    ['576c2f', '576c30'],
    ['576c29', '576c2a'],
    ['5769ff', '576a00'],
    ['576c2f96-1f', '576c2f96-20'],
    ['576c2fff-ff', '576c3000-00'],
    ['ffffff', null],
  ])('is %s plus one in hex, hyphens kept: %s', (prefix, upper) => {
    expect(idPrefixUpperBound(prefix)).toBe(upper);
  });
});

describe.each(DIALECTS)('ids by unique prefix on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let betaId: string;

  /** Queues an ad-hoc job (no workers run here, so it stays queued); returns its id. */
  async function queueJob(project = 'maps', org = OWNER.org): Promise<string> {
    const res = await t.call('POST', `/api/v1/orgs/${org}/jobs`, {
      token: owner,
      body: { project, command: ['true'] },
    });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  }

  /**
   * Gives job `id` an id that starts like `like`: random UUIDv4 job ids share 8 characters about
   * once in 4 billion pairs, so the test makes the collision a busy server eventually meets.
   */
  async function renameJob(id: string, like: string, shared = 8): Promise<string> {
    const renamed = like.slice(0, shared) + id.slice(shared);
    await t.app.database.db.updateTable('jobs').set({ id: renamed }).where('id', '=', id).execute();
    return renamed;
  }

  async function addSecret(body: Record<string, unknown>): Promise<string> {
    const res = await t.call('POST', `${O}/secrets`, { token: owner, body });
    expect(res.status, res.text).toBe(201);
    return res.body[0].id as string;
  }

  async function serviceToken(name: string, projects: string[]): Promise<string> {
    const res = await t.call('POST', `${O}/tokens`, {
      token: owner,
      body: { name, role: 'devops', projects },
    });
    expect(res.status, res.text).toBe(201);
    return res.body.token as string;
  }

  const deniedEvents = async () =>
    (await t.call('GET', `${O}/audit?eventType=DENIED&limit=500`, { token: owner })).body
      .events as { targetId: string | null }[];

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    for (const slug of ['maps', 'other']) {
      const p = await t.call('POST', `${O}/projects`, { token: owner, body: { slug } });
      expect(p.status, p.text).toBe(201);
    }
    const beta = await t.call('POST', '/api/v1/orgs', {
      token: owner,
      body: { slug: 'beta', name: 'Beta' },
    });
    expect(beta.status, beta.text).toBe(201);
    await t.call('POST', '/api/v1/orgs/beta/projects', { token: owner, body: { slug: 'maps' } });
    betaId = await queueJob('maps', 'beta');
  }, 60_000);
  afterAll(() => t.close());

  describe('jobs', () => {
    it('takes the full id as before, and the 8 characters the console shows', async () => {
      expect(SHORT_ID_LENGTH).toBeGreaterThanOrEqual(MIN_ID_PREFIX);
      const id = await queueJob();
      const full = await t.call('GET', `${O}/jobs/${id}`, { token: owner });
      expect(full.status, full.text).toBe(200);
      const short = await t.call('GET', `${O}/jobs/${shortId(id)}`, { token: owner });
      expect(short.status, short.text).toBe(200);
      expect(short.body).toEqual(full.body);
      const logs = await t.call('GET', `${O}/jobs/${shortId(id)}/logs`, { token: owner });
      expect(logs.status, logs.text).toBe(200);
      expect(logs.body.job.id).toBe(id);
      const download = await t.call('GET', `${O}/jobs/${shortId(id)}/logs/download`, {
        token: owner,
      });
      expect(download.status, download.text).toBe(200);
      expect(download.headers['content-disposition']).toContain(id);
    });

    it.each([
      ['the minimum length', (id: string) => id.slice(0, MIN_ID_PREFIX)],
      ['a prefix through a hyphen', (id: string) => id.slice(0, 11)],
      ['a prefix ending in a hyphen', (id: string) => id.slice(0, 9)],
      ['upper case', (id: string) => id.slice(0, 10).toUpperCase()],
      ['the full id in upper case', (id: string) => id.toUpperCase()],
    ])('takes %s', async (_what, ref) => {
      const id = await queueJob();
      const res = await t.call('GET', `${O}/jobs/${ref(id)}`, { token: owner });
      // Another job may share the shortest prefixes: then the answer names both.
      if (res.status === 409) expect(res.body.error.details.candidates).toContain(id);
      else {
        expect(res.status, res.text).toBe(200);
        expect(res.body.id).toBe(id);
      }
    });

    it('cancels by prefix and audits the full id', async () => {
      const id = await queueJob();
      const res = await t.call('POST', `${O}/jobs/${shortId(id)}/cancel`, { token: owner });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ id, status: 'cancelled' });
      const events = await t.call('GET', `${O}/audit?eventType=CANCEL_JOB`, { token: owner });
      expect(events.body.events[0]).toMatchObject({ targetId: id, targetName: id });
    });

    it('answers 409 CONFLICT naming id and both candidates when two jobs share the prefix', async () => {
      const first = await queueJob();
      const second = await renameJob(await queueJob(), first);
      const res = await t.call('POST', `${O}/jobs/${shortId(first)}/cancel`, { token: owner });
      expect(res.status, res.text).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
      expect(res.body.error.details).toMatchObject({
        field: 'id',
        prefix: shortId(first),
        candidates: [first, second].sort(),
      });
      expect(res.body.error.message).toContain(first);
      expect(res.body.error.message).toContain(second);
      // Nothing was cancelled, and one more character (they differ after the 8th) decides.
      for (const id of [first, second])
        expect((await t.call('GET', `${O}/jobs/${id}`, { token: owner })).body.status).toBe(
          'queued',
        );
      const longer = await t.call('GET', `${O}/jobs/${second.slice(0, 20)}`, { token: owner });
      expect(longer.body.id).toBe(second);
    });

    it('resolves among the jobs the caller may see, and names no other', async () => {
      const token = await serviceToken('maps-only', ['maps']);
      const mine = await queueJob('maps');
      const hidden = await renameJob(await queueJob('other'), mine);
      const denialsBefore = (await deniedEvents()).length;

      // The job of another project does not make the prefix ambiguous for this token.
      const res = await t.call('GET', `${O}/jobs/${shortId(mine)}`, { token });
      expect(res.status, res.text).toBe(200);
      expect(res.body.id).toBe(mine);

      // Two visible jobs: the candidates are those two, never the hidden one.
      const mine2 = await renameJob(await queueJob('maps'), mine);
      const both = await t.call('GET', `${O}/jobs/${shortId(mine)}/logs`, { token });
      expect(both.status, both.text).toBe(409);
      expect(both.body.error.details.candidates).toEqual([mine, mine2].sort());
      expect(both.text).not.toContain(hidden);

      // A prefix only the hidden job has is not found (not 403: that would confirm it exists).
      const only = await t.call('GET', `${O}/jobs/${hidden.slice(0, 20)}`, { token });
      expect(only.status, only.text).toBe(404);
      expect(only.body.error.code).toBe('JOB_NOT_FOUND');
      expect(only.text).not.toContain(hidden);
      // Checking candidates records no denial.
      expect((await deniedEvents()).length).toBe(denialsBefore);

      // Its full id is authorized as before: denied, and the denial audited.
      const byId = await t.call('GET', `${O}/jobs/${hidden}`, { token });
      expect(byId.status, byId.text).toBe(403);
      expect((await deniedEvents())[0]?.targetId).toBe(hidden);
    });

    it('authorizes the resolved job for the action as a full id would be', async () => {
      const viewerToken = await t.call('POST', `${O}/tokens`, {
        token: owner,
        body: { name: 'viewer', role: 'viewer' },
      });
      const id = await queueJob();
      const token = viewerToken.body.token as string;
      expect((await t.call('GET', `${O}/jobs/${shortId(id)}`, { token })).status).toBe(200);
      const cancel = await t.call('POST', `${O}/jobs/${shortId(id)}/cancel`, { token });
      expect(cancel.status, cancel.text).toBe(403);
      expect(cancel.body.error.details).toMatchObject({ permission: 'jobs:run', targetId: id });
    });

    it("does not find another organization's job by prefix, nor name it", async () => {
      const res = await t.call('GET', `${O}/jobs/${shortId(betaId)}`, { token: owner });
      expect(res.status, res.text).toBe(404);
      expect(res.body.error.code).toBe('JOB_NOT_FOUND');
      expect(res.text).not.toContain(betaId);
      // Sharing a prefix with it leaves a job of this organization unique.
      const mine = await renameJob(await queueJob(), betaId);
      const shared = await t.call('GET', `${O}/jobs/${shortId(betaId)}`, { token: owner });
      expect(shared.status, shared.text).toBe(200);
      expect(shared.body.id).toBe(mine);
      expect(shared.text).not.toContain(betaId);
    });

    it.each([
      ['too short', 'abcde'],
      ['not hex', 'zzzzzzzz'],
      ['a hyphen where an id has none', 'abcd-ef01'],
      ['a percent sign', 'abcdef%'],
      ['only percent signs', '%%%%%%%%'],
      ['underscores', '______'],
      ['an underscore among hex digits', 'abc_ef01'],
      ['longer than an id', `${'a'.repeat(8)}-aaaa-aaaa-aaaa-${'a'.repeat(12)}a`],
    ])('answers 400 VALIDATION_FAILED naming id for %s', async (_what, ref) => {
      const res = await t.call('GET', `${O}/jobs/${encodeURIComponent(ref)}`, { token: owner });
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.fields[0].field).toBe('id');
    });

    it('answers 404 for a well-formed prefix or full id that names nothing', async () => {
      for (const ref of ['fffffffe', 'fffffffe-ffff-4fff-bfff-ffffffffffff']) {
        const res = await t.call('GET', `${O}/jobs/${ref}`, { token: owner });
        expect(res.status, res.text).toBe(404);
        expect(res.body.error.code).toBe('JOB_NOT_FOUND');
      }
    });

    it('matches % and _ in the store as themselves, never as wildcards', async () => {
      const org = await t.app.database.db
        .selectFrom('organizations')
        .select('id')
        .where('slug', '=', OWNER.org)
        .executeTakeFirstOrThrow();
      const db = t.app.database.db;
      expect(await findJobsByIdPrefix(db, org.id, '%', 10)).toEqual([]);
      expect(await findJobsByIdPrefix(db, org.id, '________', 10)).toEqual([]);
      const id = await queueJob();
      expect(await findJobsByIdPrefix(db, org.id, `${id.slice(0, 7)}_`, 10)).toEqual([]);
      expect(await findJobsByIdPrefix(db, org.id, `${id.slice(0, 7)}%`, 10)).toEqual([]);
      expect((await findJobsByIdPrefix(db, org.id, id.slice(0, 8), 10)).map((j) => j.id)).toContain(
        id,
      );
      // A prefix of only f's has no upper bound: still found.
      const last = await renameJob(await queueJob(), 'ffffffff');
      const found = await findJobsByIdPrefix(db, org.id, 'ffffff', 10);
      expect(found.map((j) => j.id)).toEqual([last]);
    });
  });

  describe('secrets', () => {
    it('gets, lists history, rotates, rolls back and removes by prefix', async () => {
      const id = await addSecret({
        project: 'maps',
        secret: { kind: 'env', name: 'PREFIXED', value: 'first-value-000', sensitivity: 'plain' },
      });
      const p = shortId(id);
      const got = await t.call('GET', `${O}/secrets/${p}`, { token: owner });
      expect(got.status, got.text).toBe(200);
      expect(got.body).toMatchObject({ id, name: 'PREFIXED', version: 1 });
      const rotated = await t.call('POST', `${O}/secrets/${p}/rotate`, {
        token: owner,
        body: { kind: 'env', value: 'second-value-00' },
      });
      expect(rotated.status, rotated.text).toBe(200);
      expect(rotated.body).toMatchObject({ id, version: 2 });
      const back = await t.call('POST', `${O}/secrets/${p}/rollback`, {
        token: owner,
        body: { version: 1 },
      });
      expect(back.status, back.text).toBe(200);
      expect(back.body).toMatchObject({ id, version: 3 });
      const history = await t.call('GET', `${O}/secrets/${p}/history`, { token: owner });
      expect(history.body.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
      const events = await t.call('GET', `${O}/audit?target=PREFIXED`, { token: owner });
      expect(
        events.body.events.map((e: { eventType: string; targetId: string }) => [
          e.eventType,
          e.targetId,
        ]),
      ).toEqual([
        ['ROLLBACK', id],
        ['ROTATE', id],
        ['CREATE', id],
      ]);
      const removed = await t.call('DELETE', `${O}/secrets/${p}`, { token: owner });
      expect(removed.status, removed.text).toBe(204);
      const gone = await t.call('GET', `${O}/secrets/${id}`, { token: owner });
      expect(gone.body.error.code).toBe('SECRET_NOT_FOUND');
    });

    it("shows a pgservice secret's settings by prefix", async () => {
      const id = await addSecret({
        project: 'maps',
        secret: {
          kind: 'pgservice',
          name: 'prefixdb',
          settings: { host: 'db.example', port: '5432', dbname: 'maps', user: 'app' },
        },
      });
      const res = await t.call('GET', `${O}/secrets/${shortId(id)}/settings`, { token: owner });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ id, name: 'prefixdb' });
    });

    it('answers 400 naming id for a short prefix and 404 for a prefix that names nothing', async () => {
      const short = await t.call('GET', `${O}/secrets/abc`, { token: owner });
      expect(short.status, short.text).toBe(400);
      expect(short.body.error.details.fields[0].field).toBe('id');
      const none = await t.call('DELETE', `${O}/secrets/ffffffff`, { token: owner });
      expect(none.status, none.text).toBe(404);
      expect(none.body.error.code).toBe('SECRET_NOT_FOUND');
    });
  });

  describe('audit events', () => {
    it('shows an event by a unique prefix of its id', async () => {
      const list = await t.call('GET', `${O}/audit?limit=1`, { token: owner });
      const id = list.body.events[0].id as string;
      const res = await t.call('GET', `${O}/audit/${id.slice(0, 35)}`, { token: owner });
      expect(res.status, res.text).toBe(200);
      expect(res.body.id).toBe(id);
    });

    it('answers 409 naming the candidates for events of the same minute (time-ordered ids)', async () => {
      const list = await t.call('GET', `${O}/audit?limit=500`, { token: owner });
      const ids = (list.body.events as { id: string }[]).map((e) => e.id);
      // UUIDv7: the first 8 characters are the time in units of ~65 s.
      const prefix = ids.map(shortId).find((p, i, all) => all.indexOf(p) !== i);
      expect(prefix).toBeDefined();
      const sharing = ids.filter((id) => id.startsWith(prefix!)).sort();
      const res = await t.call('GET', `${O}/audit/${prefix!}`, { token: owner });
      expect(res.status, res.text).toBe(409);
      expect(res.body.error.code).toBe('CONFLICT');
      expect(res.body.error.details.field).toBe('id');
      expect(res.body.error.details.candidates).toEqual(sharing.slice(0, 10));
    });

    it("does not find another organization's event by prefix", async () => {
      const beta = await t.call('GET', '/api/v1/orgs/beta/audit?limit=1', { token: owner });
      const id = beta.body.events[0].id as string;
      const res = await t.call('GET', `${O}/audit/${id.slice(0, 35)}`, { token: owner });
      expect(res.status, res.text).toBe(404);
      expect(res.body.error.code).toBe('AUDIT_EVENT_NOT_FOUND');
      expect(res.text).not.toContain(id);
    });
  });

  describe('invitations', () => {
    it('revokes a pending invitation by a prefix of its id, and only a pending one', async () => {
      const inv = await t.call('POST', `${O}/invitations`, {
        token: owner,
        body: { email: 'prefix-invitee@example.com', role: 'viewer' },
      });
      expect(inv.status, inv.text).toBe(201);
      const pending = (await t.call('GET', `${O}/invitations`, { token: owner })).body as {
        id: string;
        email: string;
      }[];
      const id = pending.find((i) => i.email === 'prefix-invitee@example.com')!.id;
      const revoked = await t.call('DELETE', `${O}/invitations/${id.slice(0, 8)}`, {
        token: owner,
      });
      expect(revoked.status, revoked.text).toBe(204);
      const again = await t.call('DELETE', `${O}/invitations/${id.slice(0, 8)}`, { token: owner });
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe('INVITATION_NOT_FOUND');
      expect((await t.call('DELETE', `${O}/invitations/abc`, { token: owner })).status).toBe(400);
    });
  });

  describe('tokens', () => {
    const live = async () =>
      ((await t.call('GET', `${O}/tokens`, { token: owner })).body as { name: string }[]).map(
        (x) => x.name,
      );

    it('revokes a service token by name as before, or by a prefix of its id', async () => {
      const a = await t.call('POST', `${O}/tokens`, {
        token: owner,
        body: { name: 'by-prefix', role: 'viewer' },
      });
      const res = await t.call('DELETE', `${O}/tokens/${shortId(a.body.id as string)}`, {
        token: owner,
      });
      expect(res.status, res.text).toBe(204);
      expect(await live()).not.toContain('by-prefix');
      const again = await t.call('DELETE', `${O}/tokens/${shortId(a.body.id as string)}`, {
        token: owner,
      });
      expect(again.body.error.code).toBe('TOKEN_NOT_FOUND');
      const byName = await t.call('POST', `${O}/tokens`, {
        token: owner,
        body: { name: 'by-name', role: 'viewer' },
      });
      expect(byName.status).toBe(201);
      expect((await t.call('DELETE', `${O}/tokens/by-name`, { token: owner })).status).toBe(204);
    });

    it('takes a name over an id prefix it looks like', async () => {
      const target = await t.call('POST', `${O}/tokens`, {
        token: owner,
        body: { name: 'lookalike-target', role: 'viewer' },
      });
      const p = shortId(target.body.id as string);
      await t.call('POST', `${O}/tokens`, { token: owner, body: { name: p, role: 'viewer' } });
      expect((await t.call('DELETE', `${O}/tokens/${p}`, { token: owner })).status).toBe(204);
      const names = await live();
      expect(names).toContain('lookalike-target');
      expect(names).not.toContain(p);
    });

    it('revokes a personal token by a prefix of its id, and a short unknown name is 404', async () => {
      const created = await t.call('POST', '/api/v1/me/tokens', {
        token: owner,
        body: { name: 'laptop' },
      });
      const res = await t.call('DELETE', `/api/v1/me/tokens/${shortId(created.body.id)}`, {
        token: owner,
      });
      expect(res.status, res.text).toBe(204);
      const unknown = await t.call('DELETE', '/api/v1/me/tokens/abc', { token: owner });
      expect(unknown.status, unknown.text).toBe(404);
      expect(unknown.body.error.code).toBe('TOKEN_NOT_FOUND');
    });
  });
});
