import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * The server's pino logger. Requests are logged without query strings or headers, so tokens in
 * a setup link or an Authorization header never reach the log.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: {
        req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url?.split('?')[0],
          ip: req.ip,
        }),
      },
      redact: ['req.headers', 'headers.authorization', 'headers.cookie'],
    },
    destination,
  );
}
