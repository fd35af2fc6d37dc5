import { z } from 'zod';

/** Slug of an organization, project or environment (SPEC §1). */
export const SLUG_RE = /^[a-z0-9][a-z0-9-]{1,62}$/;

export const ENVIRONMENT_TYPES = ['production', 'staging', 'development', 'preview'] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

// What a reader cannot see, or what reorders what they see around it: controls (C0, DEL, C1),
// format characters (Cf: zero-width space, non-joiner and joiner, the bidi marks, embeddings,
// overrides and isolates, soft hyphen, word joiner, BOM, the tag characters, …), the line and
// paragraph separators, and every other default-ignorable code point (variation selectors, the
// combining grapheme joiner, Hangul fillers, …). `owner\u200b@example.com` reads as
// `owner@example.com`; `invoice\u202efdp.exe` as `invoiceexe.pdf`.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const PICTOGRAPH = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}]$/u;
const EMOJI = /^\p{Emoji}$/u;
const ZWJ = '\u200d';
const EMOJI_PRESENTATION = '\ufe0f';

/**
 * Whether an invisible character at `i` of `chars` is part of an emoji sequence, where it changes
 * which picture is drawn and hides or reorders nothing: the emoji presentation selector after an
 * emoji (`☁️`), a zero-width joiner between pictographs (`👩‍💻`).
 */
function inEmoji(chars: readonly string[], i: number): boolean {
  const before = chars[i - 1] ?? '';
  if (chars[i] === EMOJI_PRESENTATION) return EMOJI.test(before);
  if (chars[i] !== ZWJ) return false;
  const after = chars[i + 1] ?? '';
  return (PICTOGRAPH.test(before) || before === EMOJI_PRESENTATION) && PICTOGRAPH.test(after);
}

/**
 * The invisible and direction-changing characters of `text` (see `INVISIBLE`), each once, in the
 * order they first appear, as `U+XXXX`; empty when a person reads exactly what is there. The one
 * rule for every name a person reads (e-mails, display names, file names) and for the console.
 *
 * @example invisibleCharacters('owner\u200b@example.com') // ['U+200B']
 */
export function invisibleCharacters(text: string): string[] {
  if (!INVISIBLE.test(text)) return [];
  const chars = Array.from(text);
  const found = new Set<string>();
  chars.forEach((ch, i) => {
    if (INVISIBLE.test(ch) && !inEmoji(chars, i)) {
      found.add(`U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
    }
  });
  return [...found];
}

/** Why `text` may not be a name a person reads, or undefined when it may (see {@link invisibleCharacters}). */
export function invisibleProblem(text: string): string | undefined {
  const found = invisibleCharacters(text);
  if (found.length === 0) return undefined;
  const shown = found.length > 3 ? [...found.slice(0, 3), '…'] : found;
  return `must not contain invisible or direction-changing characters (${shown.join(', ')})`;
}

/** Adds the invisible-character rule ({@link invisibleProblem}) to a string schema. */
export function visible<T extends z.ZodString>(schema: T): T {
  return schema.superRefine((text, ctx) => {
    const problem = invisibleProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

export const slugSchema = visible(z.string()).regex(
  SLUG_RE,
  'must be 2-63 characters of a-z, 0-9 and "-", starting with a letter or digit',
);

/**
 * A name people read but nothing looks up (an organization's or a project's display name):
 * trimmed, NFC, 1-200 characters, nothing invisible or direction-changing.
 */
export const displayNameSchema = visible(z.string().trim().normalize('NFC').min(1).max(200));

/**
 * An e-mail as it is stored and compared: trimmed, NFC, lower case — so `Owner@Example.COM` and
 * a decomposed `jose\u0301@…` are the person already known. For the addresses Hush looks up
 * (sign-in, a member in a path, an assignee), so that an account created before
 * {@link emailSchema} refused invisible characters can still sign in and be removed.
 */
export const emailLookupSchema = z
  .string()
  .trim()
  .toLowerCase()
  .normalize('NFC')
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address');

/**
 * An e-mail that becomes an identity (an invitation, the first Owner): {@link emailLookupSchema}
 * with nothing invisible or direction-changing in it, so that no two people read alike.
 */
export const emailSchema = visible(emailLookupSchema);

export const passwordSchema = z.string().min(8, 'must have at least 8 characters').max(1024);
