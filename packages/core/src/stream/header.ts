import { randomBytes } from 'node:crypto';
import { type AeadKey, createAeadKey } from '../crypto/aead.js';
import { hkdfSha256 } from '../crypto/hkdf.js';
import { constantTimeEqual, hmacSha256 } from '../crypto/hmac.js';
import { CustosError, DecryptionFailed, isCustosError } from '../errors/index.js';
import { describeStanza } from './describe.js';
import {
  type BackupStanza,
  encodeHeaderBody,
  MAX_STANZAS,
  PAYLOAD_SALT_LENGTH,
  type ParsedHeader,
} from './format.js';
import type { BackupIdentity, BackupRecipient } from './recipient.js';

const FILE_KEY_LENGTH = 32;

/** A header ready to write, and the key its payload is sealed under. */
export interface SealedHeader {
  readonly bytes: Buffer;
  readonly payloadKey: AeadKey;
}

/**
 * Draws a random file key, wraps it for every recipient and builds the header: its stanzas,
 * a random payload salt and the HMAC of both under a key derived from the file key.
 */
export async function createHeader(recipients: readonly BackupRecipient[]): Promise<SealedHeader> {
  checkRecipients(recipients);
  const fileKey = randomBytes(FILE_KEY_LENGTH);
  try {
    const stanzas: BackupStanza[] = [];
    for (const recipient of recipients) stanzas.push(await recipient.wrapFileKey(fileKey));
    const payloadSalt = randomBytes(PAYLOAD_SALT_LENGTH);
    return {
      bytes: headerBytes(fileKey, stanzas, payloadSalt),
      payloadKey: payloadKeyOf(fileKey, payloadSalt),
    };
  } finally {
    fileKey.fill(0);
  }
}

/**
 * Rewraps the file key of an opened header for `recipients`: same file key and payload salt,
 * so the chunks that follow stay valid as they are.
 */
export async function rewrapHeader(
  fileKey: Buffer,
  header: ParsedHeader,
  recipients: readonly BackupRecipient[],
): Promise<Buffer> {
  checkRecipients(recipients);
  const stanzas: BackupStanza[] = [];
  for (const recipient of recipients) stanzas.push(await recipient.wrapFileKey(fileKey));
  return headerBytes(fileKey, stanzas, header.payloadSalt);
}

/**
 * A new header for the same file key and stanzas, with a fresh payload salt: new content sealed
 * for the recipients an opened file already had (a protected key file written back). The fresh
 * salt gives a fresh payload key, so no nonce repeats.
 */
export function resealHeader(fileKey: Buffer, header: ParsedHeader): SealedHeader {
  const payloadSalt = randomBytes(PAYLOAD_SALT_LENGTH);
  return {
    bytes: headerBytes(fileKey, header.stanzas, payloadSalt),
    payloadKey: payloadKeyOf(fileKey, payloadSalt),
  };
}

/**
 * Finds the file key with the first identity that opens a stanza, then authenticates the whole
 * header with it. An identity that fails on a stanza (a KMS refusing or out of reach, a damaged
 * stanza) does not end the search: another stanza may open the file, and the header MAC still
 * covers every stanza. When none opens it, the first such failure is thrown (it says what went
 * wrong: a permission, a login); with none, `ERR_BACKUP_KEY_MISMATCH` (a wrong key or
 * passphrase, or a file encrypted to others), naming what the file needs. `ERR_DECRYPTION_FAILED`
 * when the header was modified.
 */
export async function unlockHeader(
  header: ParsedHeader,
  identities: readonly BackupIdentity[],
): Promise<Buffer> {
  if (identities.length === 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'decrypting a backup needs at least one key');
  }
  let firstFailure: CustosError | undefined;
  for (const identity of identities) {
    for (const stanza of header.stanzas) {
      let fileKey: Buffer | undefined;
      try {
        fileKey = await identity.unwrapFileKey(stanza);
      } catch (err) {
        // A bug (not a typed refusal) is not hidden behind another stanza.
        if (!isCustosError(err)) throw err;
        firstFailure ??= err;
        continue;
      }
      if (fileKey === undefined) continue;
      if (fileKey.length !== FILE_KEY_LENGTH) {
        throw new DecryptionFailed('a recipient stanza holds a file key of the wrong length');
      }
      const mac = hmacSha256(headerMacKey(fileKey), header.authenticated);
      if (!constantTimeEqual(mac, header.mac)) {
        throw new DecryptionFailed('the backup header failed authentication: it was modified');
      }
      return fileKey;
    }
  }
  if (firstFailure !== undefined) throw firstFailure;
  const needed = header.stanzas.map((s) => describeStanza(s).summary).join('; ');
  throw new CustosError(
    'ERR_BACKUP_KEY_MISMATCH',
    `none of the given keys opens this backup (a wrong key or passphrase, or a file encrypted to other recipients); it needs one of: ${needed}`,
  );
}

/** The payload key: HKDF-SHA256 of the file key with the header's payload salt. */
export function payloadKeyOf(fileKey: Buffer, payloadSalt: Buffer): AeadKey {
  const material = hkdfSha256(fileKey, 'custos-backup/v1 payload', { salt: payloadSalt });
  const key = createAeadKey('aes-256-gcm', material);
  material.fill(0);
  return key;
}

function headerBytes(
  fileKey: Buffer,
  stanzas: readonly BackupStanza[],
  payloadSalt: Buffer,
): Buffer {
  const body = encodeHeaderBody(stanzas, payloadSalt);
  return Buffer.concat([body, hmacSha256(headerMacKey(fileKey), body)]);
}

function headerMacKey(fileKey: Buffer): Buffer {
  return hkdfSha256(fileKey, 'custos-backup/v1 header');
}

function checkRecipients(recipients: readonly BackupRecipient[]): void {
  if (recipients.length < 1 || recipients.length > MAX_STANZAS) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `a backup is encrypted to 1 to ${MAX_STANZAS} recipients, not ${recipients.length}`,
    );
  }
}
