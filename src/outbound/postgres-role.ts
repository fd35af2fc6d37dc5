import pg from 'pg';

import type { RoleAdmin } from '../domain/rotations/rotation-service.js';
import { pgUrl } from '../domain/secrets/pg-derived.js';

/**
 * The {@link RoleAdmin} of a real server, over node-postgres: one connection per call, from the
 * admin service's settings as a URL (host, port, dbname, user, password, sslmode), closed after
 * the one statement. Connecting and the statement each give up after 10 seconds.
 */
export function createPostgresRoleAdmin(options: { timeoutMs?: number } = {}): RoleAdmin {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async setVerifier(admin, role, verifier) {
      const client = new pg.Client({
        connectionString: pgUrl(admin),
        connectionTimeoutMillis: timeoutMs,
        statement_timeout: timeoutMs,
        application_name: 'hush-rotation',
      });
      // An error after connecting (the server going away) must not be an unhandled event.
      client.on('error', () => undefined);
      await client.connect();
      try {
        await client.query(
          `alter role ${client.escapeIdentifier(role)} password ${client.escapeLiteral(verifier)}`,
        );
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
