import { invalid } from '../../errors.js';
import {
  envNameProblem,
  previewOf,
  validateEnvName,
  validateEnvValue,
  validateFileSecret,
} from './kinds.js';
import {
  changedSettings,
  patchPgService,
  type PgServicePatch,
  type PgServiceSettings,
  validatePgService,
} from './pgservice.js';
import { isDerivedName } from './references.js';
import { isTemplateError, parseTemplate, refsOfTemplate } from './templates.js';

/** A secret's value as clients send it, by kind. */
export type SecretInput =
  | {
      kind: 'env';
      name: string;
      value: string;
      sensitivity: 'secret' | 'plain';
      /** Whether `${…}` in the value are references (default: yes). */
      expand?: boolean | undefined;
    }
  | {
      kind: 'file';
      name: string;
      fileName: string;
      content: Buffer;
      sensitivity: 'secret' | 'plain';
      /** Whether `${…}` in the content are references (default: no, a file is kept as it is). */
      expand?: boolean | undefined;
    }
  | {
      kind: 'pgservice';
      name: string;
      settings: PgServiceSettings;
      /** Whether jobs also get HUSH_PG_<NAME>_* variables (default: no). */
      exportEnv?: boolean | undefined;
    }
  | { kind: 'alias'; name: string; target: string };

/** A new value for an existing secret (rotate). */
export type SecretValue =
  | { kind: 'env'; value: string }
  | { kind: 'file'; content: Buffer }
  | { kind: 'pgservice'; settings: PgServiceSettings }
  | { kind: 'alias'; target: string };

/** Validates a new secret by its kind (SPEC §3); throws VALIDATION_FAILED naming fields, never values. */
export function validateSecretInput(input: SecretInput): void {
  switch (input.kind) {
    case 'env':
      validateEnvName(input.name);
      validateEnvValue(input.value);
      return;
    case 'file':
      validateFileSecret({ name: input.name, fileName: input.fileName, content: input.content });
      return;
    case 'pgservice':
      validatePgService({ name: input.name, settings: input.settings });
      return;
    case 'alias':
      validateEnvName(input.name);
      validateAliasTarget(input.target);
      return;
  }
}

/** Checks an alias's target: a name it could be, in the same context (env or HUSH_PG_*). */
export function validateAliasTarget(target: string, field = 'target'): void {
  if (isDerivedName(target)) return;
  const problem = envNameProblem(target);
  if (problem !== undefined) {
    throw invalid(field, `${problem} (or a derived HUSH_PG_<SERVICE>_<FIELD> name)`);
  }
}

/** Validates a rotation value against the secret's kind. */
export function validateSecretValue(
  kind: string,
  name: string,
  fileName: string | null,
  value: SecretValue,
): void {
  if (value.kind !== kind) throw invalid('kind', `this secret is of kind ${kind}`);
  switch (value.kind) {
    case 'env':
      return validateEnvValue(value.value);
    case 'file':
      return validateFileSecret({ name, fileName: fileName ?? 'file', content: value.content });
    case 'pgservice':
      return validatePgService({ name, settings: value.settings });
    case 'alias':
      return validateAliasTarget(value.target);
  }
}

/**
 * How a rotation gives the new value: whole (`replace`, every kind), or as a change of some
 * settings of a pgservice secret (`patch`), every other setting kept.
 */
export type SecretRotation = (
  { mode: 'replace'; value: SecretValue } | { mode: 'patch'; patch: PgServicePatch }
) & {
  /** Whether the new value is a template (default: as the current version is). */
  expand?: boolean | undefined;
};

/**
 * The value a rotation stores, from the secret's current value (needed for a pgservice secret
 * only), and for a pgservice secret the names of the settings it changes (never their values).
 * Throws VALIDATION_FAILED naming fields: a value of another kind, a patch of a secret that is
 * not a pgservice, or what {@link validateSecretValue} and {@link patchPgService} refuse.
 */
export function rotatedValue(
  secret: { kind: SecretValue['kind']; name: string; fileName: string | null },
  current: SecretValue | undefined,
  rotation: SecretRotation,
): { value: SecretValue; changed?: string[] } {
  const before = current?.kind === 'pgservice' ? current.settings : undefined;
  if (rotation.mode === 'replace') {
    const value = rotation.value;
    validateSecretValue(secret.kind, secret.name, secret.fileName, value);
    if (value.kind !== 'pgservice' || before === undefined) return { value };
    return { value, changed: changedSettings(before, value.settings) };
  }
  if (secret.kind !== 'pgservice' || before === undefined) {
    throw invalid('kind', `this secret is of kind ${secret.kind}: give its whole new value`);
  }
  const settings = patchPgService(secret.name, before, rotation.patch);
  return { value: { kind: 'pgservice', settings }, changed: changedSettings(before, settings) };
}

/** Whether a new secret's value is a template: env values are unless `expand: false`, files only with `expand: true`. */
export function expandsByDefault(input: SecretInput): boolean {
  if (input.kind === 'env') return input.expand ?? true;
  if (input.kind === 'file') return input.expand ?? false;
  return false;
}

/** The value a new secret stores. */
export function valueOfInput(input: SecretInput): SecretValue {
  switch (input.kind) {
    case 'env':
      return { kind: 'env', value: input.value };
    case 'file':
      return { kind: 'file', content: input.content };
    case 'pgservice':
      return { kind: 'pgservice', settings: input.settings };
    case 'alias':
      return { kind: 'alias', target: input.target };
  }
}

/** The bytes that get encrypted for a value. */
export function plaintextOf(value: SecretValue): Buffer {
  switch (value.kind) {
    case 'env':
      return Buffer.from(value.value, 'utf8');
    case 'file':
      return value.content;
    case 'pgservice':
      return Buffer.from(JSON.stringify(value.settings), 'utf8');
    case 'alias':
      return Buffer.from(value.target, 'utf8');
  }
}

/** Turns decrypted bytes back into a value of the given kind. */
export function valueOf(kind: SecretValue['kind'], plaintext: Buffer): SecretValue {
  switch (kind) {
    case 'env':
      return { kind, value: plaintext.toString('utf8') };
    case 'file':
      return { kind, content: plaintext };
    case 'pgservice':
      return { kind, settings: JSON.parse(plaintext.toString('utf8')) as PgServiceSettings };
    case 'alias':
      return { kind, target: plaintext.toString('utf8') };
  }
}

/** The masked preview stored with a version (first/last 3 characters of a long enough value). */
export function previewOfValue(value: SecretValue): string | null {
  switch (value.kind) {
    case 'env':
      return previewOf(value.value);
    case 'file':
      return previewOf(value.content.toString('utf8'));
    case 'pgservice':
      return value.settings.password === undefined ? null : previewOf(value.settings.password);
    case 'alias':
      // A name, not a secret: the whole of it.
      return value.target;
  }
}

/**
 * The references a value's version stores (see the `refs` column): an alias's target; the
 * references of an env or file value written as a template (`expand`); null for a literal
 * value. A template that does not parse is VALIDATION_FAILED naming the character.
 */
export function refsOfValue(value: SecretValue, expand: boolean, field = 'value'): string[] | null {
  if (value.kind === 'alias') return [value.target];
  if (!expand || value.kind === 'pgservice') return null;
  const text = value.kind === 'env' ? value.value : value.content.toString('utf8');
  const parsed = parseTemplate(text);
  if (isTemplateError(parsed)) {
    throw invalid(
      value.kind === 'file' ? 'content' : field,
      `character ${parsed.position}: ${parsed.message}`,
    );
  }
  return refsOfTemplate(parsed);
}
