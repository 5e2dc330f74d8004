import { randomBytes } from 'node:crypto';
import { hkdfSha256 } from '../crypto/hkdf.js';
import { constantTimeEqual, hmacSha256 } from '../crypto/hmac.js';
import { CustosError, MalformedCiphertext } from '../errors/index.js';
import { readKeyMaterialFile } from '../lib/private-file.js';
import type { BackupStanza } from './format.js';
import { type BackupIdentity, type BackupRecipient, STANZA_TYPE } from './recipient.js';
import { unwrapFileKey, WRAPPED_KEY_LENGTH, wrapFileKey } from './wrap.js';
import { IDENTITY_PREFIX } from './x25519.js';

const LABEL = 'custos-backup/v1 key';
const KEY_ID_LENGTH = 8;
const SALT_LENGTH = 16;
const BODY_LENGTH = KEY_ID_LENGTH + SALT_LENGTH + WRAPPED_KEY_LENGTH;

/** A 32-byte symmetric key as recipient and identity; `keyId` names it in headers. */
export type BackupKey = BackupRecipient & BackupIdentity & { readonly keyId: string };

/**
 * A 32-byte symmetric key (from a key file, a secret store) as recipient and identity. The
 * header names it by a key id: the first 8 bytes of HMAC-SHA256(key, "custos-backup/v1 key id"),
 * which identifies the key without revealing anything about it.
 *
 * @example
 * ```ts
 * const key = backupKey(Buffer.from(process.env.BACKUP_KEY_HEX!, 'hex'));
 * await encryptFile('db.sql', 'db.sql.cbk', { recipients: [key] });
 * ```
 */
export function backupKey(material: Uint8Array): BackupKey {
  if (material.length !== 32) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `a backup key holds 32 bytes, not ${material.length}`,
    );
  }
  const key = Buffer.from(material);
  const id = hmacSha256(key, 'custos-backup/v1 key id').subarray(0, KEY_ID_LENGTH);
  return {
    keyId: id.toString('hex'),
    wrapFileKey(fileKey: Buffer): BackupStanza {
      const salt = randomBytes(SALT_LENGTH);
      const wrapped = wrapFileKey(hkdfSha256(key, LABEL, { salt }), fileKey, LABEL);
      return { type: STANZA_TYPE.key, body: Buffer.concat([id, salt, wrapped]) };
    },
    unwrapFileKey(stanza: BackupStanza): Buffer | undefined {
      if (stanza.type !== STANZA_TYPE.key) return undefined;
      const body = checkBody(stanza.body);
      if (!constantTimeEqual(body.subarray(0, KEY_ID_LENGTH), id)) return undefined;
      const salt = body.subarray(KEY_ID_LENGTH, KEY_ID_LENGTH + SALT_LENGTH);
      return unwrapFileKey(
        hkdfSha256(key, LABEL, { salt }),
        body.subarray(KEY_ID_LENGTH + SALT_LENGTH),
        LABEL,
      );
    },
  };
}

/**
 * Reads a backup key file: 32 bytes as 64 hex characters or base64 (`openssl rand -hex 32`).
 * The file must be mode 0600 (or stricter) and belong to this user or root, as every custos
 * key file (`ERR_INSECURE_FILE` otherwise).
 *
 * @example
 * ```ts
 * const key = await readBackupKeyFile('/etc/backup/backup.key');
 * ```
 */
export async function readBackupKeyFile(path: string): Promise<BackupKey> {
  const text = (await readKeyMaterialFile(path, 'backup key file')).trim();
  if (text.includes(IDENTITY_PREFIX)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `${path} holds an X25519 identity, not a symmetric key: pass it as an identity (--identity)`,
    );
  }
  const bytes = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(text)
      ? Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64')
      : undefined;
  if (bytes?.length !== 32) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `backup key file ${path} must hold 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)`,
    );
  }
  const key = backupKey(bytes);
  bytes.fill(0);
  return key;
}

/** What `inspect` shows of a key stanza: the key id. */
export function describeKeyStanza(body: Buffer): { keyId: string } {
  return { keyId: checkBody(body).toString('hex', 0, KEY_ID_LENGTH) };
}

function checkBody(body: Buffer): Buffer {
  if (body.length !== BODY_LENGTH) {
    throw new MalformedCiphertext(`a key stanza holds ${BODY_LENGTH} bytes`);
  }
  return body;
}
