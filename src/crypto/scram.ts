import { createHash, createHmac, pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677, as
 * `pg_authid.rolpassword` holds it): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`,
 * each part base64. Given to `ALTER ROLE … PASSWORD`, PostgreSQL stores it as it is, so the
 * plaintext never reaches the server nor its statement log. The password is taken as its UTF-8
 * bytes: exact for the ASCII passwords {@link randomPassword} makes (SASLprep changes none).
 */
export function scramVerifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = 4096,
): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

/** A password of `length` characters drawn uniformly from `alphabet` (no modulo bias). */
export function randomPassword(length: number, alphabet: string): string {
  const chars = [...alphabet];
  let out = '';
  for (let i = 0; i < length; i++) out += chars[randomInt(chars.length)];
  return out;
}
