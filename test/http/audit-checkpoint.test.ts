import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addMember,
  bootstrapOwner,
  OWNER,
  startTestServer,
  type TestServer,
} from '../helpers/app.js';
import { DIALECTS } from '../helpers/databases.js';

const A = `/api/v1/orgs/${OWNER.org}/audit`;

interface Checkpoint {
  format: string;
  organizationId: string;
  organization: string;
  seq: number;
  hash: string;
  timestamp: string | null;
  signedAt: string;
  keyId: string;
  signature: string;
}

describe.each(DIALECTS)('audit checkpoints over REST on %s', (dialect) => {
  let t: TestServer;
  let token: string;
  let viewer: string;
  let orgId: string;

  const verifyWith = (checkpoint: unknown, as = token) =>
    t.call('GET', `${A}/verify?checkpoint=${encodeURIComponent(JSON.stringify(checkpoint))}`, {
      token: as,
    });
  const addProject = (slug: string) =>
    t.call('POST', `/api/v1/orgs/${OWNER.org}/projects`, { token, body: { slug } });
  const head = () =>
    t.app.database.db
      .selectFrom('auditHeads')
      .select(['seq', 'hash'])
      .where('orgId', '=', orgId)
      .executeTakeFirstOrThrow()
      .then((h) => ({ seq: Number(h.seq), hash: h.hash }));

  beforeAll(async () => {
    t = await startTestServer(dialect);
    token = await bootstrapOwner(t);
    viewer = await addMember(t, token, 'viewer@example.com', 'viewer');
    for (const slug of ['p1', 'p2']) await addProject(slug);
    orgId = (
      await t.app.database.db
        .selectFrom('organizations')
        .select('id')
        .where('slug', '=', OWNER.org)
        .executeTakeFirstOrThrow()
    ).id;
  });
  afterAll(() => t.close());

  let checkpoint: Checkpoint;

  it('signs the verified head as a checkpoint without writing an event', async () => {
    const before = await head();
    const res = await t.call('GET', `${A}/checkpoint`, { token });
    expect(res.status, res.text).toBe(200);
    checkpoint = res.body as Checkpoint;
    expect(checkpoint).toEqual({
      format: 'hush-audit-checkpoint/1',
      organizationId: orgId,
      organization: OWNER.org,
      seq: before.seq,
      hash: before.hash,
      timestamp: expect.any(String),
      signedAt: expect.any(String),
      keyId: expect.stringMatching(/^ak_[0-9a-f]{16}$/),
      signature: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(await head()).toEqual(before);
  });

  it('proves the log still holds the checkpoint’s event, also after more events', async () => {
    expect((await verifyWith(checkpoint)).body).toMatchObject({
      ok: true,
      checkpoint: { seq: checkpoint.seq, status: 'present' },
    });
    await addProject('p3');
    const later = await verifyWith(checkpoint);
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({
      ok: true,
      checked: checkpoint.seq + 1,
      checkpoint: { seq: checkpoint.seq, status: 'present' },
    });
  });

  it.each<[string, (c: Checkpoint) => Checkpoint]>([
    ['its seq', (c) => ({ ...c, seq: c.seq - 1 })],
    ['its hash', (c) => ({ ...c, hash: 'a'.repeat(64) })],
    ['its organization', (c) => ({ ...c, organization: 'other' })],
    ['its time', (c) => ({ ...c, signedAt: '2030-01-01T00:00:00.000Z' })],
    ['its signature', (c) => ({ ...c, signature: 'f'.repeat(64) })],
  ])(
    'refuses a checkpoint whose %s was edited with 400 AUDIT_CHECKPOINT_INVALID',
    async (_f, edit) => {
      const res = await verifyWith(edit(checkpoint));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'AUDIT_CHECKPOINT_INVALID',
        message: expect.stringContaining('signature does not match'),
      });
    },
  );

  it('refuses a checkpoint naming another audit key, saying the key differs', async () => {
    const res = await verifyWith({ ...checkpoint, keyId: 'ak_0123456789abcdef' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('AUDIT_CHECKPOINT_INVALID');
    expect(res.body.error.message).toContain('ak_0123456789abcdef');
    expect(res.body.error.message).toContain(checkpoint.keyId);
  });

  it('refuses a genuine checkpoint of another organization', async () => {
    const other = await t.call('POST', '/api/v1/orgs', { token, body: { slug: 'other' } });
    expect(other.status, other.text).toBe(201);
    const theirs = await t.call('GET', '/api/v1/orgs/other/audit/checkpoint', { token });
    expect(theirs.status).toBe(200);
    const res = await verifyWith(theirs.body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('AUDIT_CHECKPOINT_INVALID');
    expect(res.body.error.message).toContain('other');
  });

  it.each([
    ['not JSON', '{"seq":', 'query.checkpoint'],
    ['missing a field', JSON.stringify({ seq: 1, hash: 'x' }), 'query.checkpoint.format'],
  ])('answers 400 VALIDATION_FAILED for a checkpoint %s', async (_label, text, field) => {
    const res = await t.call('GET', `${A}/verify?checkpoint=${encodeURIComponent(text)}`, {
      token,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('needs the permission to view audit logs, like verify', async () => {
    for (const url of [`${A}/checkpoint`, `${A}/verify`]) {
      const res = await t.call('GET', url, { token: viewer });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('PERMISSION_DENIED');
    }
    expect((await verifyWith(checkpoint, viewer)).status).toBe(403);
  });

  it('reports a checkpoint whose event is gone, though the truncated chain itself verifies', async () => {
    // The attacker deletes the last events and moves the head back over them: without the
    // checkpoint nothing shows; with it, the missing event does.
    const kept = checkpoint.seq - 2;
    const last = await t.app.database.db
      .selectFrom('auditEvents')
      .select(['seq', 'hash'])
      .where('orgId', '=', orgId)
      .where('seq', '=', kept)
      .executeTakeFirstOrThrow();
    await t.app.database.db
      .deleteFrom('auditEvents')
      .where('orgId', '=', orgId)
      .where('seq', '>', kept)
      .execute();
    await t.app.database.db
      .updateTable('auditHeads')
      .set({ seq: kept, hash: last.hash })
      .where('orgId', '=', orgId)
      .execute();
    expect((await t.call('GET', `${A}/verify`, { token })).body).toMatchObject({ ok: true });
    expect((await verifyWith(checkpoint)).body).toEqual({
      ok: false,
      checked: kept,
      brokenAt: { id: null, seq: checkpoint.seq, reason: 'checkpoint-missing' },
    });
    // New events take the deleted seqs again: the checkpoint's seq now holds another event.
    await addProject('p4');
    await addProject('p5');
    const replaced = await verifyWith(checkpoint);
    expect(replaced.body).toMatchObject({
      ok: false,
      brokenAt: { id: expect.any(String), seq: checkpoint.seq, reason: 'checkpoint-mismatch' },
    });
  });

  it('reports tail truncation, and refuses to sign a broken chain with 409 AUDIT_CHAIN_BROKEN', async () => {
    const { seq } = await head();
    await t.app.database.db
      .deleteFrom('auditEvents')
      .where('orgId', '=', orgId)
      .where('seq', '=', seq)
      .execute();
    expect((await t.call('GET', `${A}/verify`, { token })).body).toEqual({
      ok: false,
      checked: seq - 1,
      brokenAt: { id: null, seq, reason: 'tail-truncated' },
    });
    const res = await t.call('GET', `${A}/checkpoint`, { token });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { brokenAt: { seq, reason: 'tail-truncated' } },
    });
  });
});
