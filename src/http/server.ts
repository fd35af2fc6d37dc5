import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';

import type { Services } from '../app.js';
import type { HushConfig } from '../config.js';
import { VERSION } from '../version.js';
import { isApiPath, registerConsole } from './console.js';
import { installErrorHandler } from './error-handler.js';
import { registerHealthRoutes } from './health.js';
import { buildOpenApi } from './openapi.js';
import type { RouteRegistry } from './route.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerAuthRoutes } from './routes/auth-routes.js';
import { registerConfigRoutes } from './routes/config-routes.js';
import { registerJobRoutes } from './routes/job-routes.js';
import { registerOrgRoutes } from './routes/org-routes.js';
import { registerProjectRoutes } from './routes/project-routes.js';
import { registerRoleRoutes } from './routes/role-routes.js';
import { registerRotationRoutes } from './routes/rotation-routes.js';
import { registerSecretRoutes } from './routes/secret-routes.js';
import { registerSecretSetRoutes } from './routes/secret-set-routes.js';
import { registerTokenRoutes } from './routes/token-routes.js';
import { installSignInLimit } from './sign-in-limit.js';

/**
 * Headers every response carries, set in one place rather than per route: `nosniff` on all
 * (API answers, errors, console pages and assets), and `no-store` on every /api/ answer, which
 * may carry credentials (sessions, tokens) or secret values. A route that sets its own
 * Cache-Control keeps it: the runtime read sends `private, no-store` with its ETag, so
 * `hush run` revalidates with If-None-Match and no cache in between stores the values.
 */
function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    if (isApiPath(request.url) && !reply.hasHeader('cache-control')) {
      void reply.header('cache-control', 'no-store');
    }
    done(null, payload);
  });
}

/**
 * Builds the HTTP app without listening: `hush serve` listens, tests call `inject()`.
 */
export async function buildServer(
  config: HushConfig,
  deps: { services: Services; logger: Logger },
): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger narrows Fastify's generics; the base logger keeps routes on default types.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    // Fastify logs two info lines per request; one debug line (below) is enough.
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Requests by route pattern and status for /metrics (an unmatched URL counts as one route).
  if (config.metrics === 'on') {
    const metrics = deps.services.metrics;
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? '(unmatched)';
      metrics.request(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  // One line per request at debug (the hook is left out at other levels: no cost per request).
  if (deps.logger.isLevelEnabled('debug')) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
        'request completed',
      );
      done();
    });
  }
  app.decorate('authService', deps.services.auth);
  app.decorate('cookieSecure', config.cookieSecure);
  installErrorHandler(app);
  installSecurityHeaders(app);
  await installSignInLimit(app, deps.services.auth.brake, config.signInIpLimit);

  registerHealthRoutes(app, config, deps.services);
  const registry: RouteRegistry = [];
  registerAuthRoutes(app, registry, deps.services);
  registerOrgRoutes(app, registry, deps.services);
  registerProjectRoutes(app, registry, deps.services);
  registerTokenRoutes(app, registry, deps.services);
  registerRotationRoutes(app, registry, deps.services);
  registerSecretRoutes(app, registry, deps.services);
  registerSecretSetRoutes(app, registry, deps.services);
  registerJobRoutes(app, registry, deps.services);
  registerRoleRoutes(app, registry, deps.services);
  registerAuditRoutes(app, registry, deps.services);
  registerConfigRoutes(app, registry, deps.services);

  const openapi = buildOpenApi(registry, VERSION);
  app.get('/api/v1/openapi.json', () => openapi);
  app.get('/api/v1/health', () => ({ status: 'ok', version: VERSION }));
  await registerConsole(app);
  await app.ready();
  return app;
}
