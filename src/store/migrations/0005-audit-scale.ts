import { type Kysely, sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // Where the kept chain starts once retention has purged older events: the seq and hash of the
  // last purged event. Verification anchors the first kept event to it, so a purge leaves a
  // chain that still verifies while deleting kept events from the front still shows.
  await db.schema
    .alterTable('audit_heads')
    .addColumn('anchor_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('audit_heads')
    .addColumn('anchor_hash', 'text', (c) => c.notNull().defaultTo(sql.lit('0'.repeat(64))))
    .execute();

  // Each list filter walks its own index newest first ((org, value, seq) backwards) and stops
  // after one page, whatever the size of the log; time ranges become seq bounds through
  // audit_events_org_time. Without them a rare target name scans the organization's whole log.
  for (const column of ['target_name', 'target_type', 'event_type', 'actor']) {
    await db.schema
      .createIndex(`audit_events_org_${column}_seq`)
      .on('audit_events')
      .columns(['org_id', column, 'seq'])
      .execute();
  }
}
