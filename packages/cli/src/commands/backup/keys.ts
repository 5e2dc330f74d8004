import { readKeyringFile } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';
import { createTransitClient } from '@custos/core/kms';
import {
  type BackupIdentity,
  type BackupRecipient,
  keyringKey,
  readBackupIdentityFile,
  readBackupKeyFile,
  readPassphraseFile,
  transitIdentity,
  transitRecipient,
  x25519Recipient,
} from '@custos/core/stream';
import { type ServerFlags, serverConnection } from '../../server-client.js';

/** The flags that name recipients of a new backup. */
export interface RecipientFlags extends ServerFlags {
  recipient?: string[] | undefined;
  keyFile?: string[] | undefined;
  passphraseFile?: string | undefined;
  transitKey?: string | undefined;
  transitMount: string;
  keyring?: string | undefined;
  keyringKey?: string | undefined;
}

/** The flags that name keys opening a backup. */
export interface IdentityFlags extends ServerFlags {
  identity?: string[];
  keyFile?: string[];
  passphraseFile?: string;
  transitMount: string;
  keyring?: string;
}

/** Every recipient the flags name; at least one is required. */
export async function recipientsOf(flags: RecipientFlags): Promise<BackupRecipient[]> {
  const recipients: BackupRecipient[] = [];
  for (const recipient of flags.recipient ?? []) recipients.push(x25519Recipient(recipient));
  for (const file of flags.keyFile ?? []) recipients.push(await readBackupKeyFile(file));
  if (flags.passphraseFile !== undefined) {
    recipients.push(await readPassphraseFile(flags.passphraseFile));
  }
  if (flags.transitKey !== undefined) {
    recipients.push(transitRecipient(transitClient(flags), flags.transitKey));
  }
  if (flags.keyring !== undefined) {
    const keyring = await readKeyringFile(flags.keyring);
    const name = flags.keyringKey ?? 'backups';
    if (!keyring.has(name)) {
      throw new CustosError(
        'ERR_KEY_NOT_FOUND',
        `keyring ${flags.keyring} has no key "${name}" (it holds ${keyring.keyNames().join(', ')}): name one with --keyring-key, or add it with custos keyring add`,
      );
    }
    recipients.push(keyringKey(keyring, name));
  }
  if (recipients.length === 0) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'name who may decrypt: --recipient, --key-file, --passphrase-file, --transit-key or --keyring',
    );
  }
  return recipients;
}

/**
 * Every key the flags name, in the order given, then the server's transit engine (asked only
 * for a transit stanza, and only when no earlier key opened the file).
 */
export async function identitiesOf(flags: IdentityFlags): Promise<BackupIdentity[]> {
  const identities: BackupIdentity[] = [];
  for (const file of flags.identity ?? []) identities.push(...(await readBackupIdentityFile(file)));
  for (const file of flags.keyFile ?? []) identities.push(await readBackupKeyFile(file));
  if (flags.passphraseFile !== undefined) {
    identities.push(await readPassphraseFile(flags.passphraseFile));
  }
  if (flags.keyring !== undefined) {
    const keyring = await readKeyringFile(flags.keyring);
    for (const name of keyring.keyNames()) identities.push(keyringKey(keyring, name));
  }
  identities.push(transitIdentity(() => transitClient(flags)));
  return identities;
}

const transitClient = (flags: ServerFlags & { transitMount: string }) =>
  createTransitClient({ mount: flags.transitMount, ...serverConnection(flags) });
