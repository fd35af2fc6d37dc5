import type { FastifyError, FastifyInstance } from 'fastify';

import { type ErrorCode, HushError } from '../errors.js';
import { isDatabaseUnavailable, isStorageFull } from '../store/db-errors.js';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
};

/**
 * The generic error handler: a HushError is sent as `{ error: { code, message, details } }` with
 * its status; Fastify's own client errors are mapped to registered codes; anything else is a
 * 500 INTERNAL with a fixed message and the request id, while the log keeps the real error.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let hush: HushError;
    if (error instanceof HushError) {
      hush = error;
    } else if (error.code && FASTIFY_CODES[error.code]) {
      const code = FASTIFY_CODES[error.code] ?? 'VALIDATION_FAILED';
      hush = new HushError(
        code,
        code === 'INVALID_JSON' ? 'the request body is not valid JSON' : error.message,
      );
    } else if (error instanceof SyntaxError && error.statusCode === 400) {
      hush = new HushError('INVALID_JSON', 'the request body is not valid JSON');
    } else if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      hush = new HushError(
        'DATABASE_UNAVAILABLE',
        'the database cannot be reached right now; retry shortly',
        { retryAfterSeconds: 5 },
      );
    } else if (isStorageFull(error)) {
      request.log.error({ err: error }, 'database disk full');
      hush = new HushError('STORAGE_FULL', "the database's disk is full; nothing was written");
    } else {
      request.log.error({ err: error }, 'unexpected error');
      hush = new HushError('INTERNAL', 'internal error', { requestId: request.id });
    }
    if (hush.status >= 500 && hush.code !== 'INTERNAL')
      request.log.error({ err: error }, hush.message);
    const retryAfter = hush.details?.['retryAfterSeconds'];
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    void reply.code(hush.status).send({
      error: { code: hush.code, message: hush.message, details: hush.details ?? {} },
    });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${request.url}`,
        details: {},
      },
    });
  });
}
