import { randomUUID } from 'node:crypto';

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
