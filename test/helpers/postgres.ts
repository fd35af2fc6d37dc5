import pg from 'pg';

/** Admin URL of the test PostgreSQL (HUSH_TEST_POSTGRES_URL, default: local trust auth). */
export const PG_ADMIN_URL =
  process.env.HUSH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of another database on the same server. */
export function pgUrl(database: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs statements on the admin database with a short-lived client. */
export async function pgAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Whether the test PostgreSQL answers. */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await pgAdmin((c) => c.query('select 1'));
    return true;
  } catch {
    return false;
  }
}
