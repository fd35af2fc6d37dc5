// The shape of Hush's ids, shared by the domain (which reads ids and prefixes) and the CLI
// (which tells an id from a secret's name); outside src/domain/ so that the CLI loads no
// server layer for it.

const ID_SHAPE = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';

/** The length of a whole id (a UUID with its hyphens). */
export const ID_LENGTH = ID_SHAPE.length;

/**
 * Whether `text` is a lower-case UUID or the start of one: hex digits, with hyphens where a
 * UUID has them. The CLI uses it to tell an id from a secret's name, as the server reads ids.
 *
 * @example hasIdShape('576c2f96') // true; hasIdShape('API_KEY') // false
 */
export function hasIdShape(text: string): boolean {
  return (
    text.length > 0 &&
    text.length <= ID_LENGTH &&
    [...text].every((c, i) => (ID_SHAPE[i] === '-' ? c === '-' : /[0-9a-f]/.test(c)))
  );
}

/** Whether `text` is a whole id (a UUID, any case). */
export function isWholeId(text: string): boolean {
  return text.length === ID_LENGTH && hasIdShape(text.toLowerCase());
}
