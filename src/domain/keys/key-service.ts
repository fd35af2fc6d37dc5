import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { decryptValue, encryptValue, generateDataKey } from '../../crypto/envelope.js';
import type { MasterKeyProvider } from '../../crypto/key-provider.js';
import { hushError } from '../../errors.js';
import {
  activateDataKey,
  findActiveDataKey,
  findDataKey,
  insertDataKey,
  listAllDataKeys,
  listAuditKeys,
  rewrapAuditKey,
  rewrapDataKey,
} from '../../store/key-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import { now } from '../context.js';

/** A value encrypted under an organization's data key. */
export interface Sealed {
  keyId: string;
  ciphertext: string;
}

/**
 * Per-organization data keys (SPEC §7): created with the organization, wrapped by the master key,
 * unwrapped once per process and kept in memory. Which key seals new values is named by the
 * organization row (read fresh by every write), never remembered by a process. Throws
 * KEY_UNAVAILABLE when the master key cannot unwrap a data key and DECRYPTION_FAILED when a
 * ciphertext does not authenticate.
 */
export function createKeyService(deps: { masterKey: MasterKeyProvider }) {
  // Unwrapped data keys by id. A data key never changes (rotation re-wraps it), so no staleness.
  const cache = new Map<string, Buffer>();

  /**
   * Creates a data key for an organization inside the caller's transaction and makes it the one
   * new values are sealed with; older keys stay and keep opening what they sealed.
   */
  async function createDataKey(trx: Kysely<Schema>, orgId: string): Promise<string> {
    const key = generateDataKey();
    const { wrapped, masterKeyId } = await deps.masterKey.wrap(key);
    const id = randomUUID();
    await insertDataKey(trx, { id, orgId, wrappedKey: wrapped, masterKeyId, createdAt: now() });
    await activateDataKey(trx, orgId, id);
    cache.set(id, key);
    return id;
  }

  async function unwrap(db: Kysely<Schema>, keyId: string): Promise<Buffer> {
    const cached = cache.get(keyId);
    if (cached) return cached;
    const row = await findDataKey(db, keyId);
    if (!row) throw hushError('KEY_UNAVAILABLE', `data key ${keyId} not found`);
    const key = await deps.masterKey.unwrap(row.wrappedKey, row.masterKeyId);
    cache.set(keyId, key);
    return key;
  }

  /**
   * Encrypts with the active data key of `org` (a row read in the caller's transaction), binding
   * the ciphertext to `aad`. Throws KEY_UNAVAILABLE when the organization has no data key.
   *
   * @example
   * const org = await loadOrganization(trx, ctx, slug, 'org:read');
   * const sealed = await keys.seal(trx, org, 'value', secretAad(secretId, 1));
   */
  async function seal(
    db: Kysely<Schema>,
    org: Pick<OrganizationRow, 'id' | 'activeDataKeyId'>,
    plaintext: string | Buffer,
    aad: string,
  ): Promise<Sealed> {
    // An organization made by a server older than the column names no key: take the newest.
    const keyId = org.activeDataKeyId ?? (await findActiveDataKey(db, org.id))?.id;
    if (!keyId) throw hushError('KEY_UNAVAILABLE', `organization ${org.id} has no data key`);
    const key = await unwrap(db, keyId);
    return { keyId, ciphertext: encryptValue(key, plaintext, aad) };
  }

  /** Decrypts a sealed value; a ciphertext moved to another row fails (its `aad` differs). */
  async function open(db: Kysely<Schema>, sealed: Sealed, aad: string): Promise<Buffer> {
    return decryptWith(await unwrap(db, sealed.keyId), sealed, aad);
  }

  /**
   * Decrypts many sealed values: each distinct data key is unwrapped (or found cached) once,
   * then every value is decrypted in one synchronous pass, not a promise per value.
   */
  async function openAll(
    db: Kysely<Schema>,
    items: readonly { sealed: Sealed; aad: string }[],
  ): Promise<Buffer[]> {
    const keys = new Map<string, Buffer>();
    for (const { sealed } of items) {
      if (!keys.has(sealed.keyId)) keys.set(sealed.keyId, await unwrap(db, sealed.keyId));
    }
    return items.map(({ sealed, aad }) => decryptWith(keys.get(sealed.keyId)!, sealed, aad));
  }

  /**
   * Re-wraps every data key, and the audit key, with the provider's active master key; returns
   * how many data keys. The audit key itself never changes, so chains and checkpoints made
   * before a rotation keep verifying after it.
   */
  async function rewrapAll(db: Kysely<Schema>): Promise<number> {
    const rows = await listAllDataKeys(db);
    for (const row of rows) {
      const key = await deps.masterKey.unwrap(row.wrappedKey, row.masterKeyId);
      const { wrapped, masterKeyId } = await deps.masterKey.wrap(key);
      await rewrapDataKey(db, row.id, wrapped, masterKeyId);
    }
    for (const row of await listAuditKeys(db)) {
      const key = await deps.masterKey.unwrap(row.wrappedKey, row.masterKeyId);
      const { wrapped, masterKeyId } = await deps.masterKey.wrap(key);
      await rewrapAuditKey(db, row.id, wrapped, masterKeyId);
    }
    return rows.length;
  }

  /** Unwraps every data key once, so a wrong master key is found at start, not at first use. */
  async function checkAll(db: Kysely<Schema>): Promise<number> {
    const rows = await listAllDataKeys(db);
    for (const row of rows) await unwrap(db, row.id);
    return rows.length;
  }

  return { createDataKey, seal, open, openAll, rewrapAll, checkAll };
}

export type KeyService = ReturnType<typeof createKeyService>;

/** Decrypts with an unwrapped key; a ciphertext that does not authenticate is DECRYPTION_FAILED. */
function decryptWith(key: Buffer, sealed: Sealed, aad: string): Buffer {
  try {
    return decryptValue(key, sealed.ciphertext, aad);
  } catch (error) {
    throw hushError(
      'DECRYPTION_FAILED',
      `ciphertext for ${aad} failed to decrypt`,
      undefined,
      error,
    );
  }
}
