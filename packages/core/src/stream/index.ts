/**
 * Streaming encryption of backups and uploads: a chunked AES-256-GCM format (STREAM, 64 KiB
 * chunks with a counter and a last-chunk flag, see `FORMAT.md`) in constant memory, for Node
 * streams, web streams and files, to X25519 recipients, key files, passphrases (Argon2id),
 * keyring keys, transit keys on a custos server, or any field-encryption KMS (AWS KMS, Azure Key
 * Vault, Google Cloud KMS, a PKCS#11 HSM, a local KMS file).
 *
 * @example
 * ```ts
 * import { encryptFile, decryptFile, generateBackupIdentity, x25519Identity, x25519Recipient } from '@custos/core/stream';
 * const { identity, recipient } = generateBackupIdentity();
 * await encryptFile('db.sql', 'db.sql.cbk', { recipients: [x25519Recipient(recipient)] });
 * await decryptFile('db.sql.cbk', 'db.sql', { identities: [x25519Identity(identity)] });
 * ```
 * @module
 */
export {
  type BackupDecryptOptions,
  type BackupEncryptOptions,
  decryptIterable,
  decryptStream,
  decryptWebStream,
  encryptIterable,
  encryptStream,
  encryptWebStream,
  type WebByteStream,
} from './crypt.js';
export type { StanzaDescription } from './describe.js';
export {
  type BackupInfo,
  type BackupRekeyOptions,
  type BackupVerification,
  decryptFile,
  encryptFile,
  inspectBackup,
  inspectFile,
  rekeyBackup,
  rekeyFile,
  verifyBackup,
  verifyFile,
} from './files.js';
export type { BackupStanza } from './format.js';
export { readBackupIdentityFile, writeBackupIdentityFile } from './identity-file.js';
export type { BackupInput } from './input.js';
export { keyringKey } from './keyring-key.js';
export { kmsIdentity, kmsRecipient } from './kms-key.js';
export {
  type Argon2idParameters,
  DEFAULT_PASSPHRASE_PARAMETERS,
  type PassphraseKeyOptions,
  passphraseKey,
  readPassphraseFile,
} from './passphrase.js';
export { isProtectedKeyFile } from './protected-armor.js';
export {
  KEY_UNLOCK_ENV,
  type KeyFileUnlockOptions,
  protectKeyFile,
  unprotectKeyFile,
} from './protected-file.js';
export type { BackupIdentity, BackupRecipient } from './recipient.js';
export {
  combineShares,
  MAX_SHARED_SECRET,
  type ShareInput,
  type SplitSecretOptions,
  splitSecret,
} from './shamir.js';
export { parseShare, type SecretShare } from './share-text.js';
export { type BackupKey, backupKey, readBackupKeyFile } from './symmetric-key.js';
export { transitIdentity, transitRecipient } from './transit-key.js';
export {
  generateBackupIdentity,
  IDENTITY_PREFIX,
  RECIPIENT_PREFIX,
  x25519Identity,
  x25519Recipient,
} from './x25519.js';
