import { parseEnvelope } from '../crypto/envelope.js';
import type { Keyring } from '../crypto/keyring.js';
import { CustosError, MalformedCiphertext } from '../errors/index.js';
import type { BackupStanza } from './format.js';
import { type BackupIdentity, type BackupRecipient, STANZA_TYPE } from './recipient.js';

const AAD = 'custos-backup/v1 keyring';

/**
 * A keyring key as recipient and identity: the file key is encrypted with the primary version
 * of key `name` (an ordinary envelope, naming key id and version), so rotating the keyring
 * leaves older backups readable while their version still decrypts.
 *
 * @example
 * ```ts
 * const keyring = await readKeyringFile('keyring.json');
 * await encryptFile('db.sql', 'db.sql.cbk', { recipients: [keyringKey(keyring, 'backups')] });
 * ```
 */
export function keyringKey(keyring: Keyring, name: string): BackupRecipient & BackupIdentity {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length < 1 || nameBytes.length > 255) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'a keyring key name holds 1 to 255 bytes');
  }
  return {
    wrapFileKey(fileKey: Buffer): BackupStanza {
      const envelope = keyring.encrypt(name, fileKey, { aad: AAD });
      return {
        type: STANZA_TYPE.keyring,
        body: Buffer.concat([Buffer.from([nameBytes.length]), nameBytes, envelope]),
      };
    },
    unwrapFileKey(stanza: BackupStanza): Buffer | undefined {
      if (stanza.type !== STANZA_TYPE.keyring) return undefined;
      const { keyName, envelope } = readBody(stanza.body);
      if (keyName !== name || !keyring.has(name)) return undefined;
      if (keyring.info(name).id !== parseEnvelope(envelope).keyId) return undefined;
      return keyring.decrypt(envelope, { aad: AAD });
    },
  };
}

/** What `inspect` shows of a keyring stanza: key name, key id and version. */
export function describeKeyringStanza(body: Buffer): {
  keyName: string;
  keyId: string;
  keyVersion: number;
} {
  const { keyName, envelope } = readBody(body);
  const { keyId, keyVersion } = parseEnvelope(envelope);
  return { keyName, keyId, keyVersion };
}

function readBody(body: Buffer) {
  const length = body[0] ?? 0;
  if (length === 0 || body.length < 1 + length + 1) {
    throw new MalformedCiphertext('a keyring stanza is too short');
  }
  return {
    keyName: body.toString('utf8', 1, 1 + length),
    envelope: body.subarray(1 + length),
  };
}
