import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createAuditRetention } from '../../src/domain/audit/retention.js';
import { createLogger } from '../../src/logger.js';
import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const A = `/api/v1/orgs/${OWNER.org}/audit`;

/** A small RFC 4180 reader: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  return records;
}

describe.each(DIALECTS)('audit export and retention on %s', (dialect) => {
  let t: TestServer;
  let owner: string;
  let viewer: string;
  let billing: string;
  const sentinel = `SENTINEL_${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    t = await startTestServer(dialect);
    owner = await bootstrapOwner(t);
    viewer = await addMember(t, owner, 'viewer@example.com', 'viewer');
    billing = await addMember(t, owner, 'billing@example.com', 'billing-manager');
    for (const slug of ['maps', 'tiles'])
      await t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, { token: owner, body: { slug } });
    const settings = (password: string) => ({ host: 'db', dbname: 'gis', user: 'ninja', password });
    const added = await t.call('POST', `/api/v1/orgs/${OWNER.org}/secrets`, {
      token: owner,
      body: {
        project: 'maps',
        secret: { kind: 'pgservice', name: 'ninja', settings: settings(sentinel) },
      },
    });
    expect(added.status, added.text).toBe(201);
    const rotated = await t.call(
      'POST',
      `/api/v1/orgs/${OWNER.org}/secrets/${added.body[0].id}/rotate`,
      {
        token: owner,
        body: { kind: 'pgservice', replace: true, settings: settings(`${sentinel}-2`) },
      },
    );
    expect(rotated.status, rotated.text).toBe(200);
  }, 60_000);
  afterAll(() => t.close());

  const lines = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown> & { seq: number; details: any }); // eslint-disable-line @typescript-eslint/no-explicit-any

  it('exports every event oldest first as JSON Lines, counts them, and audits the export', async () => {
    const before = await t.call('GET', `${A}?limit=1`, { token: owner });
    const headSeq: number = before.body.events[0].seq;
    const res = await t.call('GET', `${A}/export?format=jsonl`, { token: owner });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    expect(res.headers['content-disposition']).toBe('attachment; filename="hush-audit-acme.jsonl"');
    const events = lines(res.text);
    // The export stops at the head it counted: it never contains its own EXPORT event.
    expect(Number(res.headers['x-hush-event-count'])).toBe(events.length);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: headSeq }, (_, i) => i + 1));
    expect(Object.keys(events[0]!)).toEqual(Object.keys(before.body.events[0]));
    expect(res.text).not.toContain(sentinel);

    const after = await t.call('GET', `${A}?limit=1&eventType=EXPORT`, { token: owner });
    expect(after.body.events[0]).toMatchObject({
      seq: headSeq + 1,
      eventType: 'EXPORT',
      targetType: 'organization',
      targetName: OWNER.org,
      actor: OWNER.email,
      tool: 'api',
      change: `exported ${events.length} audit events as jsonl`,
      details: { format: 'jsonl', count: events.length, filters: {}, throughSeq: headSeq },
    });
  });

  it('exports CSV with a header and quoted fields that read back to the same events', async () => {
    const json = lines(
      (await t.call('GET', `${A}/export?format=jsonl&targetType=secret`, { token: owner })).text,
    );
    const res = await t.call('GET', `${A}/export?format=csv&targetType=secret`, {
      token: owner,
      headers: { 'x-hush-tool': 'cli' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toContain('text/csv');
    const [header, ...rows] = parseCsv(res.text);
    expect(header).toEqual([
      'id',
      'timestamp',
      'organization',
      'seq',
      'event_type',
      'target_type',
      'target_id',
      'target_name',
      'change',
      'actor',
      'tool',
      'ip',
      'details',
      'prev_hash',
      'hash',
    ]);
    expect(rows).toHaveLength(json.length);
    expect(rows.map((r) => r[7])).toEqual(['ninja', 'ninja']);
    // details is JSON with commas and quotes: quoted, quotes doubled, and read back intact.
    expect(rows.map((r) => JSON.parse(r[12]!))).toEqual(json.map((e) => e.details));
    expect(rows.map((r) => r[14])).toEqual(json.map((e) => e.hash));
    expect(res.text).not.toContain(sentinel);
    const audited = await t.call('GET', `${A}?limit=1&eventType=EXPORT`, { token: owner });
    expect(audited.body.events[0]).toMatchObject({
      tool: 'cli',
      details: { format: 'csv', filters: { targetType: 'secret' }, count: 2 },
    });
  });

  it('answers "who changed ninja lately, with which tool" with filters on list and export', async () => {
    const since = new Date(Date.now() - 7 * 86_400_000).toISOString();
    const list = await t.call('GET', `${A}?target=ninja&since=${since}`, { token: owner });
    const rows = list.body.events as { eventType: string; actor: string; tool: string }[];
    expect(rows.map((e) => [e.eventType, e.actor, e.tool])).toEqual([
      ['ROTATE', OWNER.email, 'api'],
      ['CREATE', OWNER.email, 'api'],
    ]);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const none = await t.call('GET', `${A}/export?format=jsonl&since=${future}`, { token: owner });
    expect(none.headers['x-hush-event-count']).toBe('0');
    expect(none.text).toBe('');
    const until = await t.call('GET', `${A}?until=${since}`, { token: owner });
    expect(until.body.events).toEqual([]);
  });

  it('refuses the export to a Viewer with 403 audit:read and a DENIED event, and bad formats with 400', async () => {
    const denied = await t.call('GET', `${A}/export?format=jsonl`, { token: viewer });
    expect(denied.status).toBe(403);
    expect(denied.body.error.details.permission).toBe('audit:read');
    const bad = await t.call('GET', `${A}/export?format=xml`, { token: owner });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toBe('query.format');
    const last = await t.call('GET', `${A}?limit=1`, { token: owner });
    expect(last.body.events[0]).toMatchObject({ eventType: 'DENIED', actor: 'viewer@example.com' });
  });

  it('purges expired events in audited batches and still verifies from the first kept one', async () => {
    // The Billing Manager sets the retention (SPEC §5: manage billing, audit retention).
    const set = await t.call('PATCH', `/api/v1/orgs/${OWNER.org}/billing`, {
      token: billing,
      body: { auditRetentionDays: 1 },
    });
    expect(set.status, set.text).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
    const cut = new Date();
    await new Promise((r) => setTimeout(r, 5));
    for (const slug of ['kept-1', 'kept-2'])
      await t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, { token: owner, body: { slug } });
    const all = lines((await t.call('GET', `${A}/export?format=jsonl`, { token: owner })).text);
    const expired = all.filter((e) => String(e.timestamp) < cut.toISOString());
    expect(expired.length).toBeGreaterThan(7);

    // "Now" is one day after the cut: everything before it has expired.
    const retention = createAuditRetention({
      db: t.app.database.db,
      audit: t.app.services.audit,
      batchSize: 3,
    });
    const [result] = await retention.purgeExpired(new Date(cut.getTime() + 86_400_000));
    expect(result).toMatchObject({ deleted: expired.length, anchorSeq: expired.at(-1)!.seq });

    const verify = await t.call('GET', `${A}/verify`, { token: owner });
    expect(verify.body).toMatchObject({ ok: true });
    const kept = lines((await t.call('GET', `${A}/export?format=jsonl`, { token: owner })).text);
    expect(kept[0]!.seq).toBe(expired.at(-1)!.seq + 1);
    const purges = kept.filter((e) => e.targetName === 'audit-retention');
    expect(purges).toHaveLength(Math.ceil(expired.length / 3));
    expect(purges[0]).toMatchObject({
      eventType: 'DELETE',
      targetType: 'settings',
      actor: 'system',
      tool: 'system',
      details: { retentionDays: 1, deleted: 3 },
    });
    expect(purges.reduce((n, e) => n + Number(e.details.deleted), 0)).toBe(expired.length);

    // A second run finds nothing more to purge and writes nothing.
    const again = await retention.purgeExpired(new Date(cut.getTime() + 86_400_000));
    expect(again[0]?.deleted).toBe(0);

    // Deleting the first kept event by hand is a gap at the anchor, not a new start.
    await t.app.database.db
      .deleteFrom('auditEvents')
      .where('id', '=', String(kept[0]!.id))
      .execute();
    const broken = await t.call('GET', `${A}/verify`, { token: owner });
    expect(broken.body).toMatchObject({
      ok: false,
      brokenAt: { seq: kept[1]!.seq, reason: 'seq-gap' },
    });
  });

  it('purges in the background on its schedule, logging what it removed', async () => {
    await t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, {
      token: owner,
      body: { slug: 'late' },
    });
    const logged: string[] = [];
    const logger = createLogger('info', {
      write: (line: string) => {
        logged.push(line);
      },
    });
    const retention = createAuditRetention({
      db: t.app.database.db,
      audit: t.app.services.audit,
      now: () => new Date(Date.now() + 2 * 86_400_000),
    });
    const task = retention.start(logger, 60_000, 10);
    for (let i = 0; i < 200 && !logged.some((l) => l.includes('audit events purged')); i++)
      await new Promise((r) => setTimeout(r, 25));
    await task.stop();
    expect(logged.join('')).toContain('audit events purged');
    const kept = lines((await t.call('GET', `${A}/export?format=jsonl`, { token: owner })).text);
    // Only the purge's own event (and nothing older than the moved clock) is left.
    expect(kept.map((e) => [e.eventType, e.targetName])).toEqual([['DELETE', 'audit-retention']]);
    expect((await t.call('GET', `${A}/verify`, { token: owner })).body).toMatchObject({ ok: true });
  });

  it('lets only Owner, Admin and Billing Manager set the retention', async () => {
    const res = await t.call('PATCH', `/api/v1/orgs/${OWNER.org}/billing`, {
      token: viewer,
      body: { auditRetentionDays: 30 },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.details.permission).toBe('billing:manage');
  });
});
