/**
 * Where the master keys live: a keyring of keys by id, one of them this node's default. The key
 * file / environment provider implements it today; a KMS can take its place without the rest of
 * Hush noticing. Which key wraps new data keys is the cluster's choice, kept in the database
 * (see the key service); the provider only holds keys.
 */
export interface MasterKeyProvider {
  /** Id of this node's default key: the one the cluster adopts when the database names none. */
  activeKeyId(): string;
  /** Ids of every key this node holds (a changed key file is read again first). */
  keyIds(): string[];
  /**
   * Wraps a 32-byte data key with the master key `keyId` (default: this node's default); throws
   * KEY_UNAVAILABLE naming the key when this node does not hold it.
   */
  wrap(dataKey: Buffer, keyId?: string): Promise<{ wrapped: string; masterKeyId: string }>;
  /** Unwraps a data key; throws KEY_UNAVAILABLE naming the master key when it is unknown or wrong. */
  unwrap(wrapped: string, masterKeyId: string): Promise<Buffer>;
}
