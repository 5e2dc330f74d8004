import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { hkdfSha256 } from '../crypto/hkdf.js';
import { CustosError, DecryptionFailed, MalformedCiphertext } from '../errors/index.js';
import { decodeBase64UrlStrict } from '../lib/bytes.js';
import type { BackupStanza } from './format.js';
import { type BackupIdentity, type BackupRecipient, STANZA_TYPE } from './recipient.js';
import { unwrapFileKey, WRAPPED_KEY_LENGTH, wrapFileKey } from './wrap.js';

/**
 * A recipient string: this prefix, then the X25519 public key in base64url.
 *
 * @example
 * ```ts
 * if (text.startsWith(RECIPIENT_PREFIX)) recipients.push(x25519Recipient(text));
 * ```
 */
export const RECIPIENT_PREFIX = 'custos-backup-recipient-';
/**
 * An identity string: this prefix, then the X25519 private key in base64url (a secret).
 *
 * @example
 * ```ts
 * const lines = text.split('\n').filter((l) => l.startsWith(IDENTITY_PREFIX));
 * ```
 */
export const IDENTITY_PREFIX = 'CUSTOS-BACKUP-IDENTITY-';

const LABEL = 'custos-backup/v1 x25519';
// DER prefixes of an X25519 key in PKCS#8 and SPKI (RFC 8410): the raw 32 bytes follow.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const BODY_LENGTH = 32 + 32 + WRAPPED_KEY_LENGTH;

const rawPublic = (key: KeyObject) =>
  key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
const publicFromRaw = (raw: Buffer) =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });

/**
 * Creates a new X25519 identity and its recipient string, as `age-keygen` does: the identity
 * decrypts, the recipient only encrypts.
 *
 * @example
 * ```ts
 * const { identity, recipient } = generateBackupIdentity();
 * // keep `identity` secret (custos backup keygen writes it with mode 0600); publish `recipient`
 * ```
 */
export function generateBackupIdentity(): { identity: string; recipient: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const raw = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  return {
    identity: `${IDENTITY_PREFIX}${raw.toString('base64url')}`,
    recipient: `${RECIPIENT_PREFIX}${rawPublic(publicKey).toString('base64url')}`,
  };
}

/**
 * A recipient from its string (`custos-backup-recipient-…`). Throws `ERR_INVALID_ARGUMENT` for
 * anything else.
 *
 * @example
 * ```ts
 * await encryptFile('db.sql', 'db.sql.cbk', { recipients: [x25519Recipient(process.env.BACKUP_RECIPIENT!)] });
 * ```
 */
export function x25519Recipient(recipient: string): BackupRecipient {
  const raw = decodeKeyString(recipient, RECIPIENT_PREFIX, 'recipient');
  const publicKey = publicFromRaw(raw);
  return {
    wrapFileKey(fileKey: Buffer): BackupStanza {
      const ephemeral = generateKeyPairSync('x25519');
      const ephemeralRaw = rawPublic(ephemeral.publicKey);
      const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey });
      const wrapped = wrapFileKey(wrappingKey(shared, ephemeralRaw, raw), fileKey, LABEL);
      return { type: STANZA_TYPE.x25519, body: Buffer.concat([raw, ephemeralRaw, wrapped]) };
    },
  };
}

/**
 * An identity from its string (`CUSTOS-BACKUP-IDENTITY-…`); `recipient` is its public side.
 * Files usually come from {@link readBackupIdentityFile}.
 *
 * @example
 * ```ts
 * const identity = x25519Identity(identityString);
 * await decryptFile('db.sql.cbk', 'db.sql', { identities: [identity] });
 * ```
 */
export function x25519Identity(identity: string): BackupIdentity & { readonly recipient: string } {
  const raw = decodeKeyString(identity, IDENTITY_PREFIX, 'identity');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  raw.fill(0);
  const ownRaw = rawPublic(createPublicKey(privateKey));
  return {
    recipient: `${RECIPIENT_PREFIX}${ownRaw.toString('base64url')}`,
    unwrapFileKey(stanza: BackupStanza): Buffer | undefined {
      if (stanza.type !== STANZA_TYPE.x25519) return undefined;
      const { recipient, ephemeral, wrapped } = splitBody(stanza.body);
      if (!recipient.equals(ownRaw)) return undefined;
      let shared: Buffer;
      try {
        shared = diffieHellman({ privateKey, publicKey: publicFromRaw(ephemeral) });
      } catch {
        throw new DecryptionFailed('an X25519 recipient stanza holds an invalid ephemeral key');
      }
      return unwrapFileKey(wrappingKey(shared, ephemeral, ownRaw), wrapped, LABEL);
    },
  };
}

/** What `inspect` shows of an X25519 stanza: the recipient it was encrypted to. */
export function describeX25519Stanza(body: Buffer): { recipient: string } {
  return { recipient: `${RECIPIENT_PREFIX}${splitBody(body).recipient.toString('base64url')}` };
}

function splitBody(body: Buffer) {
  if (body.length !== BODY_LENGTH) {
    throw new MalformedCiphertext(`an X25519 recipient stanza holds ${BODY_LENGTH} bytes`);
  }
  return {
    recipient: body.subarray(0, 32),
    ephemeral: body.subarray(32, 64),
    wrapped: body.subarray(64),
  };
}

function wrappingKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  // An all-zero shared secret means a low-order point was offered as a key (RFC 7748 §6.1).
  if (shared.every((b) => b === 0)) {
    throw new DecryptionFailed('an X25519 recipient stanza holds a low-order key');
  }
  const key = hkdfSha256(shared, LABEL, { salt: Buffer.concat([ephemeral, recipient]) });
  shared.fill(0);
  return key;
}

function decodeKeyString(text: string, prefix: string, what: string): Buffer {
  const trimmed = text.trim();
  if (!trimmed.startsWith(prefix)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `an X25519 ${what} starts with ${prefix} (custos backup keygen prints one)`,
    );
  }
  const raw = decodeBase64UrlStrict(trimmed.slice(prefix.length), `the X25519 ${what}`);
  if (raw.length !== 32) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `an X25519 ${what} holds 32 bytes`);
  }
  return raw;
}
