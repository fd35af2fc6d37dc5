import { timingSafeEqual } from 'node:crypto';

import type { FastifyInstance } from 'fastify';

import type { Services } from '../app.js';
import type { HushConfig } from '../config.js';

/**
 * `/healthz` (the process answers), `/readyz` (it can serve: 503 naming each failing check) and,
 * with `metrics=on`, `/metrics` in Prometheus' text format (behind `metricsToken` when set).
 * None needs a session: a load balancer and a scraper call them.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  config: HushConfig,
  services: Services,
): void {
  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks = await services.health.readiness();
    const failing = checks.filter((c) => !c.ok);
    void reply.code(failing.length === 0 ? 200 : 503);
    return { status: failing.length === 0 ? 'ready' : 'unavailable', checks };
  });
  if (config.metrics !== 'on') {
    // Off: a plain 404, not the console's page that any other path gets.
    app.get('/metrics', (_request, reply) => reply.callNotFound());
    return;
  }
  const expected = config.metricsToken ? Buffer.from(`Bearer ${config.metricsToken}`) : null;
  app.get('/metrics', async (request, reply) => {
    if (expected) {
      const given = Buffer.from(request.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        void reply.code(401).header('www-authenticate', 'Bearer');
        return { error: { code: 'UNAUTHENTICATED', message: 'the metrics token is required' } };
      }
    }
    void reply.header('content-type', services.metrics.contentType);
    return services.metrics.text();
  });
}
