import pg from 'pg';

import { type PrivateCluster, startPrivateCluster } from './private-cluster.js';

export type ScramCluster = PrivateCluster;

/**
 * A PostgreSQL 15 cluster of the caller's own, on a free port: scram-sha-256 on TCP, so a wrong
 * password fails (the shared test server trusts every password).
 */
export function startScramCluster(): Promise<ScramCluster> {
  return startPrivateCluster({ hostAuth: 'scram-sha-256' });
}

/** Whether `password` signs `user` in to `database` over TCP. */
export async function signsIn(port: number, user: string, database: string, password: string) {
  const client = new pg.Client({ host: '127.0.0.1', port, user, database, password });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
