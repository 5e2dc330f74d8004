import { CustosError } from '@custos/core/errors';
import {
  type BackupIdentity,
  type BackupRecipient,
  keyringKey,
  kmsIdentity,
  kmsRecipient,
  readBackupIdentityFile,
  readBackupKeyFile,
  readPassphraseFile,
  transitIdentity,
  transitRecipient,
  x25519Recipient,
} from '@custos/core/stream';
import type { ServerFlags } from '../../server-client.js';

// The keyring, KMS and server modules load only for the flags that need them: a backup to an
// X25519 recipient or key file starts without them (the CLI's start-up is most of a small
// backup's CPU time).
const kmsModule = () => import('@custos/core/kms');
const environmentKms = () => import('../../environment-kms.js');

/** The flags that name recipients of a new backup. */
export interface RecipientFlags extends ServerFlags {
  recipient?: string[] | undefined;
  keyFile?: string[] | undefined;
  passphraseFile?: string | undefined;
  transitKey?: string | undefined;
  transitMount: string;
  keyring?: string | undefined;
  keyringKey?: string | undefined;
  /** `--kms-env`: the KMS `KMS_PROVIDER` selects wraps the file key. */
  kmsEnv?: boolean | undefined;
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
    recipients.push(transitRecipient(await transitClient(flags), flags.transitKey));
  }
  if (flags.keyring !== undefined) {
    const { readKeyringFile } = await import('@custos/core/crypto');
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
  if (flags.kmsEnv === true) recipients.push(await environmentKmsRecipient());
  if (recipients.length === 0) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'name who may decrypt: --recipient, --key-file, --passphrase-file, --transit-key, --keyring or --kms-env',
    );
  }
  return recipients;
}

/**
 * Every key the flags name, in the order given, then the server's transit engine (asked only
 * for a transit stanza, and only when no earlier key opened the file), then the KMS that
 * `KMS_PROVIDER` selects (opened only for a KMS stanza of that provider).
 */
export async function identitiesOf(flags: IdentityFlags): Promise<BackupIdentity[]> {
  const identities: BackupIdentity[] = [];
  for (const file of flags.identity ?? []) identities.push(...(await readBackupIdentityFile(file)));
  for (const file of flags.keyFile ?? []) identities.push(await readBackupKeyFile(file));
  if (flags.passphraseFile !== undefined) {
    identities.push(await readPassphraseFile(flags.passphraseFile));
  }
  if (flags.keyring !== undefined) {
    const { readKeyringFile } = await import('@custos/core/crypto');
    const keyring = await readKeyringFile(flags.keyring);
    for (const name of keyring.keyNames()) identities.push(keyringKey(keyring, name));
  }
  identities.push(transitIdentity(() => transitClient(flags)));
  identities.push(...(await environmentKmsIdentities()));
  return identities;
}

/**
 * `--kms-env` as a recipient: the settings are read now (one `ERR_KMS_CONFIG` naming every
 * missing variable, before any input is read), the KMS is opened for the wrap and closed after.
 */
async function environmentKmsRecipient(): Promise<BackupRecipient> {
  const { readKmsSettings } = await kmsModule();
  const { openEnvironmentKms } = await environmentKms();
  const { provider } = readKmsSettings(process.env);
  return {
    async wrapFileKey(fileKey) {
      const opened = await openEnvironmentKms();
      try {
        return await kmsRecipient(opened.kms, provider).wrapFileKey(fileKey);
      } finally {
        await opened.close();
      }
    },
  };
}

/**
 * The KMS of the environment as identity, when `KMS_PROVIDER` names one: a KMS stanza of that
 * provider opens it (its other variables are read then, so a broken setting matters only for a
 * file that needs it), and it is closed after each stanza. Without `KMS_PROVIDER`, a file that
 * only a KMS opens fails with `ERR_BACKUP_KEY_MISMATCH` naming the provider and key it needs.
 * `custos` and `vault` are the same transit client: either opens the other's stanzas.
 */
async function environmentKmsIdentities(): Promise<BackupIdentity[]> {
  const provider = process.env.KMS_PROVIDER ?? '';
  if (provider === '') return [];
  const { KMS_PROVIDERS } = await kmsModule();
  if (!(KMS_PROVIDERS as readonly string[]).includes(provider)) return [];
  const { openEnvironmentKms } = await environmentKms();
  const names = provider === 'custos' || provider === 'vault' ? ['custos', 'vault'] : [provider];
  return names.map((name) => ({
    async unwrapFileKey(stanza) {
      let opened: Awaited<ReturnType<typeof openEnvironmentKms>> | undefined;
      const identity = kmsIdentity(name, async () => {
        opened = await openEnvironmentKms();
        return opened.kms;
      });
      try {
        return await identity.unwrapFileKey(stanza);
      } finally {
        await opened?.close();
      }
    },
  }));
}

async function transitClient(flags: ServerFlags & { transitMount: string }) {
  const [{ createTransitClient }, { serverConnection }] = await Promise.all([
    kmsModule(),
    import('../../server-client.js'),
  ]);
  return createTransitClient({ mount: flags.transitMount, ...serverConnection(flags) });
}
