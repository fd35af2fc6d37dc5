import { z } from 'zod';

const UNIT_SECONDS = { m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/** Seconds of a duration written `15m`, `12h`, `30d` or `2w`; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,5})([mhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS] : undefined;
}

/** A duration field (`30d`) as its seconds. */
export const durationSchema = z
  .string()
  .transform((text, ctx) => {
    const seconds = parseDuration(text);
    if (seconds === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a whole number and a unit: m (minutes), h, d or w, like 30d',
      });
      return z.NEVER;
    }
    return seconds;
  })
  .describe('a duration: a whole number and a unit, m, h, d or w (30d)');

/** A UTC time of day, HH:MM. */
export const timeOfDaySchema = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a UTC time of day, HH:MM (00:00 to 23:59)');

/**
 * When a rotation runs next after `from`: `every` seconds later, at `at` (HH:MM UTC) on that day
 * when a time of day is set; null for a rotation run by hand only.
 *
 * @example nextRunAt(new Date('2026-01-01T10:00Z'), 86_400, '03:00') // 2026-01-02T03:00Z
 */
export function nextRunAt(from: Date, every: number | null, at: string | null): Date | null {
  if (every === null) return null;
  const t = new Date(from.getTime() + every * 1000);
  if (at === null) return t;
  const [h, m] = at.split(':').map(Number) as [number, number];
  return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate(), h, m));
}

/** How long a scheduled rotation waits after its `failures`-th failure in a row: 1 min doubling, at most 1 h. */
export function retryDelaySeconds(failures: number): number {
  return Math.min(60 * 2 ** Math.max(0, failures - 1), 3600);
}
