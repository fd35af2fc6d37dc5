import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { decryptValue, encryptValue, generateDataKey } from '../../crypto/envelope.js';
import type { MasterKeyProvider } from '../../crypto/key-provider.js';
import { type HushError, hushError } from '../../errors.js';
import {
  activateDataKey,
  adoptActiveMasterKey,
  countWrapsByMasterKey,
  findActiveDataKey,
  findActiveDataKeyId,
  findActiveMasterKey,
  findDataKey,
  insertDataKey,
  listAllDataKeys,
  listAuditKeys,
  listMasterKeyStates,
  rewrapAuditKey,
  rewrapDataKey,
  setMasterKeyState,
} from '../../store/key-store.js';
import type { OrganizationRow, Schema } from '../../store/schema.js';
import { now } from '../context.js';

/** A value encrypted under an organization's data key. */
export interface Sealed {
  keyId: string;
  ciphertext: string;
}

/** What the cluster needs of this node's keyring (readiness, `hush admin master-key list`). */
export interface MasterKeyStatus {
  /** The key new data keys are wrapped with, or null before a node adopted one. */
  active: string | null;
  /** Ids this node holds. */
  held: string[];
  /** Keys the database needs (active, or wrapping a data key or the audit key) this node lacks. */
  missing: string[];
  /** Every key the database knows, with its state and what it wraps. */
  keys: { id: string; state: string | null; dataKeys: number; auditKeys: number; held: boolean }[];
}

/**
 * Per-organization data keys (SPEC §7): created with the organization, wrapped by the master key,
 * unwrapped once per process and kept in memory. Which key seals new values is named by the
 * organization row (read fresh by every write), never remembered by a process; which master key
 * wraps new data keys is named by the `master_keys` table, so every node of a cluster wraps with
 * the same one and none with a retired one. Throws KEY_UNAVAILABLE when the master key cannot
 * unwrap a data key and DECRYPTION_FAILED when a ciphertext does not authenticate.
 */
export function createKeyService(deps: {
  masterKey: MasterKeyProvider;
  dialect: 'sqlite' | 'postgres';
}) {
  // Unwrapped data keys by id. A data key never changes (rotation re-wraps it), so no staleness.
  const cache = new Map<string, Buffer>();
  // The data key each open transaction seals with: read (and share-locked) once per transaction.
  const sealingKey = new WeakMap<Kysely<Schema>, Map<string, Promise<string | undefined>>>();

  /**
   * The master key to wrap with: the cluster's active one, which this node must hold; before a
   * node adopted one, this node's default unless the cluster retired it.
   */
  async function wrapKeyId(db: Kysely<Schema>): Promise<string> {
    const active = await findActiveMasterKey(db, deps.dialect, true);
    if (active) {
      if (!deps.masterKey.keyIds().includes(active.id)) throw lacking(active.id, 'active');
      return active.id;
    }
    const own = deps.masterKey.activeKeyId();
    const states = await listMasterKeyStates(db);
    if (states.some((k) => k.id === own && k.state === 'retired')) {
      throw hushError(
        'KEY_UNAVAILABLE',
        `master key "${own}" is retired: no node wraps with it (activate another: hush admin master-key activate)`,
      );
    }
    return own;
  }

  /** Wraps a key (a data key, the audit key) with the master key the cluster wraps with. */
  async function wrap(db: Kysely<Schema>, key: Buffer) {
    return deps.masterKey.wrap(key, await wrapKeyId(db));
  }

  /**
   * Creates a data key for an organization inside the caller's transaction and makes it the one
   * new values are sealed with; older keys stay and keep opening what they sealed.
   */
  async function createDataKey(trx: Kysely<Schema>, orgId: string): Promise<string> {
    const key = generateDataKey();
    const { wrapped, masterKeyId } = await wrap(trx, key);
    const id = randomUUID();
    await insertDataKey(trx, { id, orgId, wrappedKey: wrapped, masterKeyId, createdAt: now() });
    await activateDataKey(trx, orgId, id);
    cache.set(id, key);
    sealingKey.get(trx)?.delete(orgId);
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
   * The data key an organization's new values are sealed with, read fresh from its row (in a
   * transaction once, share-locked on PostgreSQL, so a data-key rotation waits for the seals
   * under way). An organization made by a server older than the column names none: the newest.
   */
  function sealingKeyOf(db: Kysely<Schema>, orgId: string): Promise<string | undefined> {
    const read = async () =>
      (await findActiveDataKeyId(db, deps.dialect, orgId)) ??
      (await findActiveDataKey(db, orgId))?.id;
    if (!db.isTransaction) return read();
    let perOrg = sealingKey.get(db);
    if (!perOrg) sealingKey.set(db, (perOrg = new Map<string, Promise<string | undefined>>()));
    let found = perOrg.get(orgId);
    if (!found) perOrg.set(orgId, (found = read()));
    return found;
  }

  /**
   * Encrypts with the active data key of `org`, binding the ciphertext to `aad`. Throws
   * KEY_UNAVAILABLE when the organization has no data key.
   *
   * @example
   * const org = await loadOrganization(trx, ctx, slug, 'org:read');
   * const sealed = await keys.seal(trx, org, 'value', secretAad(secretId, 1));
   */
  async function seal(
    db: Kysely<Schema>,
    org: Pick<OrganizationRow, 'id'>,
    plaintext: string | Buffer,
    aad: string,
  ): Promise<Sealed> {
    const keyId = await sealingKeyOf(db, org.id);
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
   * Re-wraps every data key, and the audit key, that another master key wraps with the one the
   * cluster wraps with; returns how many data keys. Each key is re-wrapped on its own (a row
   * re-wrapped meanwhile by another pass is left as it is). The audit key itself never changes,
   * so chains and checkpoints made before a rotation keep verifying after it.
   */
  async function rewrapAll(db: Kysely<Schema>, only?: string): Promise<number> {
    const target = await wrapKeyId(db);
    const moves = (masterKeyId: string) =>
      masterKeyId !== target && (only === undefined || masterKeyId === only);
    let count = 0;
    for (const row of await listAllDataKeys(db)) {
      if (!moves(row.masterKeyId)) continue;
      const key = await deps.masterKey.unwrap(row.wrappedKey, row.masterKeyId);
      const { wrapped } = await deps.masterKey.wrap(key, target);
      if (await rewrapDataKey(db, row.id, row.masterKeyId, wrapped, target)) count++;
    }
    for (const row of await listAuditKeys(db)) {
      if (!moves(row.masterKeyId)) continue;
      const key = await deps.masterKey.unwrap(row.wrappedKey, row.masterKeyId);
      const { wrapped } = await deps.masterKey.wrap(key, target);
      await rewrapAuditKey(db, row.id, row.masterKeyId, wrapped, target);
    }
    return count;
  }

  /** What the database needs of this node's keyring. */
  async function masterKeyStatus(db: Kysely<Schema>): Promise<MasterKeyStatus> {
    const [states, wraps] = await Promise.all([listMasterKeyStates(db), countWrapsByMasterKey(db)]);
    const held = deps.masterKey.keyIds();
    const ids = [...new Set([...states.map((k) => k.id), ...wraps.keys()])].sort();
    const keys = ids.map((id) => ({
      id,
      state: states.find((k) => k.id === id)?.state ?? null,
      dataKeys: wraps.get(id)?.dataKeys ?? 0,
      auditKeys: wraps.get(id)?.auditKeys ?? 0,
      held: held.includes(id),
    }));
    return {
      active: states.find((k) => k.state === 'active')?.id ?? null,
      held,
      missing: keys
        .filter((k) => !k.held && (k.state === 'active' || k.dataKeys + k.auditKeys > 0))
        .map((k) => k.id),
      keys,
    };
  }

  /**
   * At start: records this node's default key as the cluster's active one when none is yet (a
   * new database, or one from before migration 0012), then unwraps every data key once, so a
   * missing or wrong master key is found at start, not at first use. Throws KEY_UNAVAILABLE
   * naming each key the database needs and this node lacks.
   */
  async function checkAll(db: Kysely<Schema>): Promise<number> {
    const own = deps.masterKey.activeKeyId();
    let status = await masterKeyStatus(db);
    if (!status.active && !status.keys.some((k) => k.id === own && k.state !== null)) {
      await adoptActiveMasterKey(db, { id: own, state: 'active', changedAt: now() });
      status = await masterKeyStatus(db);
    }
    const [first] = status.missing;
    if (first) throw lacking(first, 'needed');
    const rows = await listAllDataKeys(db);
    for (const row of rows) await unwrap(db, row.id);
    return rows.length;
  }

  /**
   * Makes `keyId` (which this node must hold) the key every node wraps new data keys with, then
   * re-wraps every data key and the audit key with it. The previous active key stays usable
   * until it is retired. Returns how many data keys were re-wrapped.
   */
  async function activateMasterKey(db: Kysely<Schema>, keyId: string): Promise<number> {
    if (!deps.masterKey.keyIds().includes(keyId)) throw lacking(keyId, 'to activate');
    await db.transaction().execute(async (trx) => {
      const states = await listMasterKeyStates(trx);
      if (states.some((k) => k.id === keyId && k.state === 'retired')) {
        throw hushError('CONFLICT', `master key "${keyId}" is retired: stage a new key instead`);
      }
      // Waits (PostgreSQL) for every wrap holding the active row's share lock.
      const active = await findActiveMasterKey(trx, deps.dialect, false);
      if (active && active.id !== keyId) {
        await setMasterKeyState(trx, { id: active.id, state: 'previous', changedAt: now() });
      }
      await setMasterKeyState(trx, { id: keyId, state: 'active', changedAt: now() });
    });
    return rewrapAll(db);
  }

  /**
   * Retires `keyId`: no node wraps with it again, and every data key (and the audit key) it
   * still wraps is re-wrapped with the active key. Afterwards it can leave every node's
   * keyring. Refuses the active key. Returns how many data keys were re-wrapped.
   */
  async function retireMasterKey(db: Kysely<Schema>, keyId: string): Promise<number> {
    const status = await masterKeyStatus(db);
    if (status.active === keyId || (!status.active && deps.masterKey.activeKeyId() === keyId)) {
      throw hushError(
        'CONFLICT',
        `master key "${keyId}" is the active key: activate another first (hush admin master-key activate)`,
      );
    }
    const known = status.keys.find((k) => k.id === keyId);
    const held = deps.masterKey.keyIds().includes(keyId);
    if (!known && !held) throw hushError('NOT_FOUND', `no master key "${keyId}" is known here`);
    // What it wraps must be unwrapped here to be re-wrapped: run it where the key is.
    if (!held && known && known.dataKeys + known.auditKeys > 0) throw lacking(keyId, 'to retire');
    await setMasterKeyState(db, { id: keyId, state: 'retired', changedAt: now() });
    return rewrapAll(db, keyId);
  }

  return {
    createDataKey,
    seal,
    open,
    openAll,
    wrap,
    rewrapAll,
    checkAll,
    masterKeyStatus,
    activateMasterKey,
    retireMasterKey,
  };
}

/** KEY_UNAVAILABLE for a master key the database needs and this node does not hold. */
function lacking(keyId: string, why: 'active' | 'needed' | 'to activate' | 'to retire'): HushError {
  const what = {
    active: 'is the active master key of the database',
    needed: 'wraps keys in the database',
    'to activate': 'is to be activated',
    'to retire': 'still wraps keys to re-wrap before it is retired',
  }[why];
  return hushError(
    'KEY_UNAVAILABLE',
    `master key "${keyId}" ${what} but this node does not hold it: add it to the key file (hush admin master-key add --stdin) or HUSH_MASTER_KEY_PREVIOUS, as docs/operations.md says`,
  );
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
