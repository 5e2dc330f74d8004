import type { BackupStanza } from './format.js';

/**
 * The stanza type bytes (see `FORMAT.md`). A new way to hold a key (a protected key file, an
 * escrow share) is a new type with its own recipient and identity: the header, the chunks and
 * the tools that rewrap stay as they are.
 */
export const STANZA_TYPE = {
  x25519: 1,
  passphrase: 2,
  key: 3,
  keyring: 4,
  transit: 5,
  kms: 6,
} as const;

/**
 * Something a backup can be encrypted to: it wraps the random file key into a stanza of the
 * header. An X25519 recipient only needs a public key, so a host can encrypt what it cannot
 * decrypt.
 *
 * @example
 * ```ts
 * const recipients: BackupRecipient[] = [x25519Recipient(recipientString), await readBackupKeyFile('backup.key')];
 * ```
 */
export interface BackupRecipient {
  wrapFileKey(fileKey: Buffer): Promise<BackupStanza> | BackupStanza;
}

/**
 * Something that may open a backup: it unwraps the file key from a stanza meant for it.
 * Returns `undefined` for a stanza that is not its own (another recipient, a wrong passphrase);
 * throws `ERR_DECRYPTION_FAILED` for one that is its own but was modified.
 *
 * @example
 * ```ts
 * const identities: BackupIdentity[] = await readBackupIdentityFile('id.key');
 * ```
 */
export interface BackupIdentity {
  unwrapFileKey(stanza: BackupStanza): Promise<Buffer | undefined> | Buffer | undefined;
}
