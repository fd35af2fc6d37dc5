import { z } from 'zod';

// The fields of a service as every client writes them: the REST routes and hush.yaml validate
// with these, so a command the API refuses is refused in a file too.

/** Parses `1h`, `30m`, `90s`, `2d` or a number of seconds. */
export const durationSchema = z.union([
  z
    .number()
    .int()
    .min(1)
    .max(7 * 86400),
  z
    .string()
    .regex(/^\d+(s|m|h|d)?$/, 'use a number of seconds or 30s, 10m, 1h, 1d')
    .transform((v) => {
      const n = Number.parseInt(v, 10);
      const unit = v.at(-1);
      return n * (unit === 'm' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86400 : 1);
    })
    .pipe(
      z
        .number()
        .int()
        .min(1, 'must be at least 1 second')
        .max(7 * 86400, 'must be at most 7 days'),
    ),
]);

/** What a service runs (a shell command line). */
export const commandSchema = z
  .string()
  .min(1)
  .max(8192)
  .refine((c) => !c.includes('\0'), 'must not contain NUL');

/** Where a service runs: relative to the job's directory, or under a job mount. */
export const workingDirSchema = z.string().min(1).max(4096);
