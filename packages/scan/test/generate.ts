/**
 * Real-format credentials made at test time (nothing secret-looking is committed): random
 * values of each provider's documented shape, with valid checksums where the format has one.
 */
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { isPlaceholder } from '../src/filters/placeholders.js';
import { crc32Base62 } from '../src/rules/checksums.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` random characters of `alphabet` (base62: with at least one digit, upper and lower
 * letter), never one the scanner would read as a placeholder (`…fAkE…`, `…MoCk…`): a test
 * that expects a finding must not fail once in a few thousand runs.
 */
export function randomString(length: number, alphabet = BASE62): string {
  for (;;) {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
    if (isPlaceholder(out)) continue;
    if (alphabet !== BASE62 || (/[0-9]/.test(out) && /[A-Z]/.test(out) && /[a-z]/.test(out))) {
      return out;
    }
  }
}

export const hex = (length: number) => randomString(length, '0123456789abcdef');
export const base64Of = (bytes: number) => randomBytes(bytes).toString('base64');

/** A GitHub classic or npm token: prefix, 30 random characters, CRC32 in base62. */
export function checksummedToken(prefix: string): string {
  const random = randomString(30);
  return `${prefix}${random}${crc32Base62(random)}`;
}

/** The same token with its checksum changed. */
export function withBadChecksum(token: string): string {
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  return token.slice(0, -1) + last;
}

export const awsAccessKeyId = () => `AKIA${randomString(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`;

/** A JWT signed with HS256 (the signature is random bytes of the right size: the scanner never verifies). */
export function jwt(alg = 'HS256'): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signature = alg === 'none' ? '' : randomBytes(32).toString('base64url');
  return `${part({ alg, typ: 'JWT' })}.${part({ sub: randomString(12), iat: 1700000000 })}.${signature}`;
}

/** PEM private keys of several kinds, made by node:crypto. */
export function pemKeys(): Record<string, string> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  return {
    pkcs1: rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    pkcs8: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    sec1: ec.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    ed25519: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    encryptedPkcs8: rsa.privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'p' })
      .toString(),
    publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** An `openssh-key-v1` container (cipher `none` or a passphrase cipher) around random key bytes. */
export function opensshKey(cipher = 'none'): string {
  const string = (value: Buffer | string) => {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const count = Buffer.alloc(4);
  count.writeUInt32BE(1);
  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    string(cipher),
    string(cipher === 'none' ? 'none' : 'bcrypt'),
    string(cipher === 'none' ? '' : randomBytes(24)),
    count,
    string(randomBytes(51)),
    string(randomBytes(160)),
  ]);
  const lines = blob.toString('base64').match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}
