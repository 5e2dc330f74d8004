import { CustosError } from '../errors/index.js';
import { writeFileAtomic } from '../lib/atomic-file.js';
import { readKeyMaterialFile } from '../lib/private-file.js';
import { isProtectedKeyFile } from './protected-armor.js';
import { type KeyFileUnlockOptions, protectKeyFile, unprotectKeyFile } from './protected-file.js';
import type { BackupIdentity, BackupRecipient } from './recipient.js';
import { generateBackupIdentity, x25519Identity } from './x25519.js';

/**
 * Reads an identity file written by `custos backup keygen` (or {@link writeBackupIdentityFile}):
 * one `CUSTOS-BACKUP-IDENTITY-…` line per identity, `#` comments. Refused unless mode 0600 and
 * owned by this user or root (`ERR_INSECURE_FILE`). A protected identity file (written with
 * `recipients`, `custos backup keygen --passphrase-file`) is opened with `options.unlock`, or the
 * passphrase or key file the environment names (`CUSTOS_KEY_PASSPHRASE_FILE`,
 * `CUSTOS_KEY_KEY_FILE`).
 *
 * @example
 * ```ts
 * await decryptFile('db.sql.cbk', 'db.sql', { identities: await readBackupIdentityFile('id.key') });
 * ```
 */
export async function readBackupIdentityFile(
  path: string,
  options: { readonly unlock?: KeyFileUnlockOptions } = {},
): Promise<Array<BackupIdentity & { readonly recipient: string }>> {
  let text = await readKeyMaterialFile(path, 'identity file');
  if (isProtectedKeyFile(text)) {
    const env = options.unlock?.env ?? process.env;
    // An identity file is never opened with an identity file: no loop through CUSTOS_KEY_IDENTITY.
    text = await unprotectKeyFile(text, {
      ...options.unlock,
      env: { ...env, CUSTOS_KEY_IDENTITY: undefined },
    });
  }
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `identity file ${path} holds no identity`);
  }
  return lines.map((line, i) => {
    try {
      return x25519Identity(line);
    } catch {
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `line ${i + 1} of identity file ${path} is not a custos backup identity`,
      );
    }
  });
}

/**
 * Creates a new X25519 identity, writes it to `path` (mode 0600, atomically; refused when the
 * file exists) and returns its recipient string. With `recipients` (a passphrase, a key file),
 * the file is written protected for them.
 *
 * @example
 * ```ts
 * const recipient = await writeBackupIdentityFile('id.key'); // custos-backup-recipient-…
 * ```
 */
export async function writeBackupIdentityFile(
  path: string,
  options: { readonly recipients?: readonly BackupRecipient[] } = {},
): Promise<string> {
  const { identity, recipient } = generateBackupIdentity();
  const text = `# custos backup identity, created ${new Date().toISOString()}\n# recipient: ${recipient}\n${identity}\n`;
  const recipients = options.recipients ?? [];
  await writeFileAtomic(
    path,
    recipients.length === 0 ? text : await protectKeyFile(text, { recipients }),
    0o600,
    { exclusive: true },
  );
  return recipient;
}
