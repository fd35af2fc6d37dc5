/**
 * Where the master key lives. The key file / environment provider implements it today; a KMS
 * can take its place without the rest of Hush noticing.
 */
export interface MasterKeyProvider {
  /** Id of the key new wraps use. */
  activeKeyId(): string;
  /** Wraps a 32-byte data key with the active master key. */
  wrap(dataKey: Buffer): Promise<{ wrapped: string; masterKeyId: string }>;
  /** Unwraps a data key; throws KEY_UNAVAILABLE naming the master key when it is unknown or wrong. */
  unwrap(wrapped: string, masterKeyId: string): Promise<Buffer>;
}
