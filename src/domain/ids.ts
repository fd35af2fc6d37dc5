import { randomUUID } from 'node:crypto';

import { HushError, hushError, invalid } from '../errors.js';
import { hasIdShape, ID_LENGTH } from '../id-shape.js';

let lastMs = -1;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, a 12-bit counter, then the
 * variant and 62 random bits. Ids made by one process sort in the order they were made (the
 * counter orders ids of one millisecond, and a clock stepping back keeps the last time), so
 * rows keyed by them append to the end of their index instead of landing on a random page:
 * audit events, the table that grows with every read, use them.
 */
export function timeOrderedId(): string {
  const ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = 0;
  }
  const time = lastMs.toString(16).padStart(12, '0');
  const random = randomUUID(); // its last two groups carry the RFC 9562 variant bits
  return `${time.slice(0, 8)}-${time.slice(8)}-${(0x7000 | counter).toString(16)}-${random.slice(19)}`;
}

/**
 * The fewest characters an id prefix may have. The console shows 8 (`console/src/short-id.ts`):
 * of a random UUIDv4 (jobs, secrets, tokens) that is 32 random bits; of a UUIDv7 (audit events)
 * the first 8 are the time in units of ~65 s, so events of one minute share them and the answer
 * is the ambiguity error listing them.
 */
export const MIN_ID_PREFIX = 6;

/** How many candidates an ambiguous prefix lists, and how many matches are examined. */
const LISTED_CANDIDATES = 10;
const EXAMINED_MATCHES = 100;

/** What stands where an id goes: a whole id, or a prefix of one (lower case, no trailing `-`). */
export type IdRef = { id: string } | { prefix: string };

/**
 * Reads an id or an id prefix: a UUID in any case, or its first {@link MIN_ID_PREFIX} or more
 * characters (hyphens where a UUID has them). Returns the problem, as a message, instead of an
 * {@link IdRef} when `raw` is neither.
 */
export function readIdRef(raw: string): IdRef | { problem: string } {
  const text = raw.toLowerCase();
  if (!hasIdShape(text))
    return {
      problem: `is not an id or an id prefix: ids are UUIDs (hex digits, "-" after the 8th, 12th, 16th and 20th)`,
    };
  if (text.length === ID_LENGTH) return { id: text };
  const prefix = text.replace(/-$/, '');
  if (prefix.length < MIN_ID_PREFIX)
    return { problem: `give at least ${MIN_ID_PREFIX} characters of an id (got ${prefix.length})` };
  return { prefix };
}

/** Finds the objects an id or id prefix may name, inside one organization (or one owner). */
export interface IdLookup<T extends { id: string }> {
  /** What the objects are called in messages: `job`, `secret`, `audit event`, `token`. */
  noun: string;
  /** The object with exactly this id, if any. */
  exact(id: string): Promise<T | undefined>;
  /** Up to `limit` objects whose id starts with `prefix`, in id order. */
  byPrefix(prefix: string, limit: number): Promise<T[]>;
  /**
   * Checks the caller may see an object (its read permission), throwing PERMISSION_DENIED if
   * not; a prefix resolves among the objects that pass. Omitted: the caller sees every one.
   */
  authorizeRead?(row: T): Promise<void>;
  /** The error for an id that names nothing. */
  notFound(): HushError;
}

/**
 * The object `raw` names: the one with exactly that id (as before prefixes existed), else the
 * one object the caller may see whose id starts with it, like git's abbreviated ids. The caller
 * then authorizes what it does with the object as it would for a full id. Objects the caller may
 * not see are never named nor counted: with a prefix they are as absent as another
 * organization's, and checking them records no denial.
 *
 * Throws VALIDATION_FAILED naming `field` for a string that is no id nor prefix of one (or is too
 * short), the lookup's not-found error when nothing matches, and CONFLICT naming `field` with
 * the candidates (`details.candidates`) when several do.
 */
export async function resolveIdRef<T extends { id: string }>(
  raw: string,
  lookup: IdLookup<T>,
  field = 'id',
): Promise<T> {
  const exact = await lookup.exact(raw);
  if (exact) return exact;
  const ref = readIdRef(raw);
  if ('problem' in ref) throw invalid(field, ref.problem);
  if ('id' in ref) {
    const found = ref.id === raw ? undefined : await lookup.exact(ref.id);
    if (found) return found;
    throw lookup.notFound();
  }
  const matches = await lookup.byPrefix(ref.prefix, EXAMINED_MATCHES + 1);
  const more = matches.length > EXAMINED_MATCHES;
  const visible: T[] = [];
  for (const row of matches.slice(0, EXAMINED_MATCHES)) {
    if (await mayRead(lookup, row)) visible.push(row);
    if (visible.length > LISTED_CANDIDATES) break;
  }
  if (visible.length === 1 && !more) return visible[0]!;
  if (visible.length === 0 && !more) throw lookup.notFound();
  const listed = visible.slice(0, LISTED_CANDIDATES).map((r) => r.id);
  const count =
    listed.length === 0
      ? 'many'
      : more || visible.length > LISTED_CANDIDATES
        ? `${listed.length} or more`
        : String(listed.length);
  throw hushError(
    'CONFLICT',
    `${field} ${ref.prefix} is ambiguous: it starts the ids of ${count} ${lookup.noun}s` +
      (listed.length > 0 ? ` (${listed.join(', ')})` : '') +
      '; give more characters',
    { field, prefix: ref.prefix, candidates: listed },
  );
}

async function mayRead<T extends { id: string }>(lookup: IdLookup<T>, row: T): Promise<boolean> {
  if (!lookup.authorizeRead) return true;
  try {
    await lookup.authorizeRead(row);
    return true;
  } catch (error) {
    // Caught here, the denial never reaches the unit of work: no DENIED event for a candidate.
    if (error instanceof HushError && error.code === 'PERMISSION_DENIED') return false;
    throw error;
  }
}
