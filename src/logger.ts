import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** How the server writes its log: one JSON object per line, or lines for people. */
export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * The server's pino logger. Requests are logged without query strings or headers, so tokens in
 * a setup link or an Authorization header never reach the log. With no `destination` it writes
 * to standard output: for people (`pretty`, or `auto` on a terminal) or as JSON lines (`json`,
 * or `auto` when standard output is a file or a pipe, for log collectors).
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  format: LogFormat = 'auto',
): Logger {
  const options = {
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
  };
  if (destination) return pino(options, destination);
  const forPeople = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!forPeople) return pino(options);
  return pino(
    options,
    pretty({
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
      sync: true,
    }),
  );
}
