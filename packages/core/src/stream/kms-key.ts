import { randomBytes } from 'node:crypto';
import { hkdfSha256 } from '../crypto/hkdf.js';
import { constantTimeEqual, hmacSha256 } from '../crypto/hmac.js';
import { CustosError, DecryptionFailed, MalformedCiphertext } from '../errors/index.js';
import type { FieldKms } from '../fields/field-kms.js';
import type { BackupStanza } from './format.js';
import { type BackupIdentity, type BackupRecipient, STANZA_TYPE } from './recipient.js';
import { unwrapFileKey, WRAPPED_KEY_LENGTH, wrapFileKey } from './wrap.js';

const LABEL = 'custos-backup/v1 kms';
const FILE_ID_INFO = 'custos-backup/v1 kms file id';
const FILE_ID_LENGTH = 16;
const SALT_LENGTH = 16;
const PROVIDER = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_KEY_REFERENCE = 1024;
const MAX_WRAPPED = 2048;
// What FieldKms promises of a wrapped data key: printable ASCII without spaces.
const WRAPPED_TEXT = /^[\x21-\x7e]+$/;

/** How `inspect` and error messages name each provider's key. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  aws: 'AWS KMS key',
  azure: 'Azure Key Vault key',
  gcp: 'Google Cloud KMS key',
  pkcs11: 'PKCS#11 token key',
  local: 'local KMS file key',
  custos: 'transit key on a custos server',
  vault: 'transit key on a Vault server',
};

/** A KMS stanza, read. */
interface KmsStanza {
  readonly provider: string;
  readonly keyReference: string;
  readonly fileId: string;
  readonly salt: Buffer;
  readonly wrappedDataKey: string;
  readonly wrappedFileKey: Buffer;
  /** Every body byte before the wrapped file key: authenticated by the file key's wrapping. */
  readonly prefix: Buffer;
}

/**
 * Any field-encryption KMS ({@link FieldKms}: AWS KMS, Azure Key Vault, Google Cloud KMS, a
 * PKCS#11 HSM, a transit key, a local KMS file, a keyring) as a backup recipient. The KMS makes
 * a fresh data key bound to `{ purpose: 'custos-backup', file: <file id> }` (its encryption
 * context or associated data; the file id is derived from the file key), and the file key is
 * wrapped under that data key. The stanza names `provider` (the `KMS_PROVIDER` value the reader
 * needs) and the KMS key, so a reader knows what to configure; see `FORMAT.md`.
 *
 * The binding keeps the wrapped data key from opening as a field data key (and the reverse), and
 * from opening for another file id; a stanza moved to another file opens its own file key, which
 * fails that file's header MAC.
 *
 * @example
 * ```ts
 * const { kms, settings, close } = await openKmsFromEnvironment(process.env, { registerRotation: false });
 * await encryptFile('db.sql', 'db.sql.cbk', { recipients: [kmsRecipient(kms, settings.provider)] });
 * await close();
 * ```
 */
export function kmsRecipient(kms: FieldKms, provider: string): BackupRecipient {
  checkProvider(provider);
  return {
    async wrapFileKey(fileKey: Buffer): Promise<BackupStanza> {
      const fileId = fileIdOf(fileKey);
      const { plaintext, wrapped } = await kms.generateDataKey({ backupFileId: fileId });
      const dataKey = Buffer.from(plaintext);
      plaintext.fill(0);
      try {
        if (dataKey.length !== 32) {
          throw new CustosError('ERR_KMS_PROVIDER', 'the KMS made a data key of the wrong length');
        }
        const keyReference = kms.describeWrappedKey(wrapped).keyId;
        const salt = randomBytes(SALT_LENGTH);
        const prefix = encodePrefix(provider, keyReference, fileId, salt, wrapped);
        const wrappedFileKey = wrapFileKey(
          hkdfSha256(dataKey, LABEL, { salt }),
          fileKey,
          aadOf(prefix),
        );
        return { type: STANZA_TYPE.kms, body: Buffer.concat([prefix, wrappedFileKey]) };
      } finally {
        dataKey.fill(0);
      }
    },
  };
}

/**
 * A KMS as backup identity: it opens the KMS stanzas of `provider` whose key it describes as the
 * stanza's key (a transit, local, PKCS#11, Azure or Google key of another name is not its own;
 * an AWS wrapped key names its key ARN, and the KMS decides). `kms` may be a function, called
 * only when such a stanza is met, so a file that needs no KMS never opens one.
 *
 * Errors: the KMS's own (`ERR_PERMISSION_DENIED`, `ERR_KMS_LOGIN_FAILED`, `ERR_KMS_CONFIG`…);
 * `ERR_DECRYPTION_FAILED` for a stanza that was edited (another file id, key or wrapped key) or
 * whose data key the KMS will not unwrap for this file; `ERR_MALFORMED_CIPHERTEXT` for one that
 * does not parse.
 *
 * @example
 * ```ts
 * const identity = kmsIdentity('aws', createAwsKms({ keyId: 'alias/backups', region: 'eu-west-1' }));
 * await decryptFile('db.sql.cbk', 'db.sql', { identities: [identity] });
 * ```
 */
export function kmsIdentity(
  provider: string,
  kms: FieldKms | (() => FieldKms | Promise<FieldKms>),
): BackupIdentity {
  checkProvider(provider);
  let resolved: Promise<FieldKms> | undefined;
  const open = () => {
    resolved ??= Promise.resolve(typeof kms === 'function' ? kms() : kms);
    return resolved;
  };
  return {
    async unwrapFileKey(stanza: BackupStanza): Promise<Buffer | undefined> {
      if (stanza.type !== STANZA_TYPE.kms) return undefined;
      const read = readBody(stanza.body);
      if (read.provider !== provider) return undefined;
      const opened = await open();
      if (opened.describeWrappedKey(read.wrappedDataKey).keyId !== read.keyReference) {
        return undefined;
      }
      const unwrapped = await opened.unwrapDataKey(read.wrappedDataKey, {
        backupFileId: read.fileId,
      });
      const dataKey = Buffer.from(unwrapped);
      unwrapped.fill(0);
      let fileKey: Buffer;
      try {
        fileKey = unwrapFileKey(
          hkdfSha256(dataKey, LABEL, { salt: read.salt }),
          read.wrappedFileKey,
          aadOf(read.prefix),
        );
      } finally {
        dataKey.fill(0);
      }
      if (
        !constantTimeEqual(Buffer.from(fileIdOf(fileKey), 'hex'), Buffer.from(read.fileId, 'hex'))
      ) {
        fileKey.fill(0);
        throw new DecryptionFailed('a KMS stanza names another file than the key it holds');
      }
      return fileKey;
    },
  };
}

/** What `inspect` shows of a KMS stanza: provider, key and file id. */
export function describeKmsStanza(body: Buffer): {
  provider: string;
  keyReference: string;
  fileId: string;
  keyDescription: string;
} {
  const { provider, keyReference, fileId } = readBody(body);
  return {
    provider,
    keyReference,
    fileId,
    keyDescription: `${(Object.hasOwn(PROVIDER_NAMES, provider) && PROVIDER_NAMES[provider]) || `${provider} KMS key`} ${printable(keyReference)} (KMS_PROVIDER=${provider})`,
  };
}

/** The file id: the first 16 bytes of HMAC-SHA256(file key, "custos-backup/v1 kms file id"), hex. */
function fileIdOf(fileKey: Buffer): string {
  return hmacSha256(fileKey, FILE_ID_INFO).subarray(0, FILE_ID_LENGTH).toString('hex');
}

/**
 * A key reference quoted for a terminal: JSON's escapes, and every character outside printable
 * ASCII as `\uXXXX`, so a crafted header cannot move the cursor, recolour or reorder (bidi
 * controls) what `inspect` and error messages show.
 */
function printable(text: string): string {
  return JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`,
  );
}

function aadOf(prefix: Buffer): Buffer {
  return Buffer.concat([Buffer.from(LABEL), prefix]);
}

function checkProvider(provider: string): void {
  if (typeof provider !== 'string' || !PROVIDER.test(provider)) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'a KMS provider name is 1 to 32 characters of a-z, 0-9 and - (a KMS_PROVIDER value)',
    );
  }
}

function encodePrefix(
  provider: string,
  keyReference: string,
  fileId: string,
  salt: Buffer,
  wrapped: string,
): Buffer {
  const reference = Buffer.from(keyReference, 'utf8');
  if (reference.length < 1 || reference.length > MAX_KEY_REFERENCE) {
    throw new CustosError(
      'ERR_KMS_PROVIDER',
      `the KMS key reference holds 1 to ${MAX_KEY_REFERENCE} bytes`,
    );
  }
  if (typeof wrapped !== 'string' || wrapped.length > MAX_WRAPPED || !WRAPPED_TEXT.test(wrapped)) {
    throw new CustosError(
      'ERR_KMS_PROVIDER',
      `the KMS wrapped the data key as something else than 1 to ${MAX_WRAPPED} printable characters`,
    );
  }
  const lengths = (n: number) => {
    const bytes = Buffer.alloc(2);
    bytes.writeUInt16BE(n);
    return bytes;
  };
  return Buffer.concat([
    Buffer.from([provider.length]),
    Buffer.from(provider, 'latin1'),
    lengths(reference.length),
    reference,
    Buffer.from(fileId, 'hex'),
    salt,
    lengths(wrapped.length),
    Buffer.from(wrapped, 'latin1'),
  ]);
}

function readBody(body: Buffer): KmsStanza {
  const malformed = () => new MalformedCiphertext('a KMS stanza is malformed');
  let at = 0;
  const take = (n: number) => {
    if (at + n > body.length) throw malformed();
    const bytes = body.subarray(at, at + n);
    at += n;
    return bytes;
  };
  const provider = take(take(1)[0] as number).toString('latin1');
  if (!PROVIDER.test(provider)) throw malformed();
  const referenceLength = take(2).readUInt16BE(0);
  if (referenceLength < 1 || referenceLength > MAX_KEY_REFERENCE) throw malformed();
  const keyReference = take(referenceLength).toString('utf8');
  const fileId = take(FILE_ID_LENGTH).toString('hex');
  const salt = take(SALT_LENGTH);
  const wrappedLength = take(2).readUInt16BE(0);
  if (wrappedLength < 1 || wrappedLength > MAX_WRAPPED) throw malformed();
  const wrappedDataKey = take(wrappedLength).toString('latin1');
  if (!WRAPPED_TEXT.test(wrappedDataKey)) throw malformed();
  const prefix = body.subarray(0, at);
  const wrappedFileKey = take(WRAPPED_KEY_LENGTH);
  if (at !== body.length) throw malformed();
  return { provider, keyReference, fileId, salt, wrappedDataKey, wrappedFileKey, prefix };
}
