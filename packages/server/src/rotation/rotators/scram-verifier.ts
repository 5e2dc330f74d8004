import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** PostgreSQL's default SCRAM iteration count. */
const ITERATIONS = 4096;

const keysOf = (password: string, salt: Buffer, iterations: number) => {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
};

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802, 7677; the form
 * `ALTER ROLE … PASSWORD` accepts pre-hashed): the password itself then never reaches the
 * server's statement log. Built from node:crypto's PBKDF2, HMAC and SHA-256. The passwords the
 * rotators generate are ASCII, for which SASLprep changes nothing (NFKC is applied).
 *
 * @example
 * ```ts
 * await client.query(`ALTER ROLE app PASSWORD '${scramVerifier(password)}'`);
 * ```
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  const { storedKey, serverKey } = keysOf(password, salt, ITERATIONS);
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Whether a stored SCRAM-SHA-256 verifier is the one of `password` (constant-time). */
export function verifierMatches(verifier: string, password: string): boolean {
  const match =
    /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier);
  if (match === null) return false;
  const [, iterations, salt, stored] = match as unknown as [string, string, string, string];
  const { storedKey } = keysOf(password, Buffer.from(salt, 'base64'), Number(iterations));
  const expected = Buffer.from(stored, 'base64');
  return expected.length === storedKey.length && timingSafeEqual(expected, storedKey);
}
