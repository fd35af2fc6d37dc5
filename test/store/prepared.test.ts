import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { preparedQuery } from '../../src/store/prepared.js';
import type { OrganizationRow } from '../../src/store/schema.js';
import { DIALECTS } from '../helpers/databases.js';
import { migratedDatabases } from '../helpers/store.js';

// Module-level, as in the store: one prepared query serves every database of the run, both
// dialects included, each compiling its own text.
const insertOrganization = preparedQuery(
  {
    id: null,
    slug: null,
    name: null,
    plan: null,
    auditRetentionDays: null,
    createdAt: null,
    activeDataKeyId: null,
  },
  (db, row: OrganizationRow) => db.insertInto('organizations').values(row),
);

const freePlanBySlug = preparedQuery({ slug: null }, (db, p: { slug: string }) =>
  db
    .selectFrom('organizations')
    .select(['id', 'name', 'auditRetentionDays'])
    .where('slug', '=', p.slug)
    .where('plan', '=', 'free')
    .limit(1),
);

const literalSlug = preparedQuery({ slug: null }, (db, p: { slug: string }) =>
  db.selectFrom('organizations').select(sql.lit(p.slug).as('slug')),
);

function org(slug: string, plan = 'free'): OrganizationRow {
  return {
    id: `id-${slug}`,
    slug,
    name: `Name of ${slug}`,
    plan,
    auditRetentionDays: null,
    createdAt: new Date().toISOString(),
    activeDataKeyId: null,
  };
}

describe.each(DIALECTS)('prepared queries on %s', (dialect) => {
  const open = migratedDatabases(dialect);

  it('runs with the parameters of each call and keeps the query own constants', async () => {
    const db = await open();
    await insertOrganization(db, org('alpha'));
    await insertOrganization(db, { ...org('beta'), auditRetentionDays: 30 });
    await insertOrganization(db, org('gamma', 'team'));
    expect((await freePlanBySlug(db, { slug: 'alpha' })).rows).toEqual([
      { id: 'id-alpha', name: 'Name of alpha', auditRetentionDays: null },
    ]);
    expect((await freePlanBySlug(db, { slug: 'beta' })).rows).toEqual([
      { id: 'id-beta', name: 'Name of beta', auditRetentionDays: 30 },
    ]);
    // The constant 'free' stays in the query: gamma is on another plan.
    expect((await freePlanBySlug(db, { slug: 'gamma' })).rows).toEqual([]);
  });

  it('runs in a transaction, seeing what the transaction wrote', async () => {
    const db = await open();
    const seen = await db.transaction().execute(async (trx) => {
      await insertOrganization(trx, org('inside'));
      return (await freePlanBySlug(trx, { slug: 'inside' })).rows;
    });
    expect(seen.map((r) => r.id)).toEqual(['id-inside']);
  });

  it('refuses a builder that writes a parameter into the SQL text instead of binding it', async () => {
    const db = await open();
    await expect(literalSlug(db, { slug: 'x' })).rejects.toThrow(/does not bind \[slug\]/);
  });
});
