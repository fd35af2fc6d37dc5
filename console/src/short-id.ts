/**
 * How many leading characters of an id the console shows. Every command and route that takes an
 * id takes this prefix too (the server resolves a prefix of at least 6 characters to the one
 * object it names), so what the console shows can be pasted into `hush job logs` and the like.
 */
export const SHORT_ID_LENGTH = 8;

/**
 * An id as the console shows it: its first {@link SHORT_ID_LENGTH} characters.
 *
 * @example
 * shortId('576c2f96-1b7e-4c0a-9d51-3f0e8a2b6c41'); // '576c2f96'
 */
export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}
