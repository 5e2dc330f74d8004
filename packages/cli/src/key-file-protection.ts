import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CustosError } from '@custos/core/errors';
import { isProtectedKeyFile, protectKeyFile, unprotectKeyFile } from '@custos/core/stream';
import {
  type IdentityFlags,
  identitiesOf,
  type RecipientFlags,
  recipientsOf,
} from './commands/backup/keys.js';
import { print, warn } from './output.js';

/** What kind of key file is protected: its name in messages, and a check that the text is one. */
export interface KeyFileKind {
  readonly what: string;
  /** Throws a typed error when `text` is not a valid file of this kind. */
  check(text: string): Promise<void>;
}

/** Writes `text` to `path` with mode 0600: a temporary file beside it, renamed over it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temporary, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temporary, path).catch(async (err: unknown) => {
    await rm(temporary, { force: true });
    throw err;
  });
}

/**
 * `custos <kind> protect`: wraps a plain key file for the recipients the flags name, in place
 * (or to `--out`), after checking it is a valid file of its kind.
 */
export async function protectFile(
  kind: KeyFileKind,
  file: string,
  flags: RecipientFlags & { out?: string },
): Promise<void> {
  const text = await readFile(file, 'utf8');
  if (isProtectedKeyFile(text)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${kind.what} ${file} is protected already`);
  }
  await kind.check(text);
  const recipients = await recipientsOf(flags);
  const out = flags.out ?? file;
  await writeAtomically(out, await protectKeyFile(text, { recipients }));
  print(
    `protected ${out} for ${recipients.length} key${recipients.length === 1 ? '' : 's'}; loaders open it with CUSTOS_KEY_PASSPHRASE_FILE, CUSTOS_KEY_IDENTITY or CUSTOS_KEY_KEY_FILE`,
  );
}

/**
 * `custos <kind> unprotect`: writes the plain key file back (in place, or to `--out`), opened
 * with the keys the flags name, or else the CUSTOS_KEY_* variables.
 */
export async function unprotectFile(
  kind: KeyFileKind,
  file: string,
  flags: IdentityFlags & { out?: string },
): Promise<void> {
  const text = await readFile(file, 'utf8');
  if (!isProtectedKeyFile(text)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${kind.what} ${file} is not protected`);
  }
  const named =
    (flags.identity?.length ?? 0) + (flags.keyFile?.length ?? 0) + (flags.passphraseFile ? 1 : 0);
  const plain = await unprotectKeyFile(
    text,
    named > 0 ? { identities: await identitiesOf(flags) } : {},
  );
  await kind.check(plain);
  const out = flags.out ?? file;
  await writeAtomically(out, plain);
  warn(`wrote ${out} unprotected (mode 0600): its key material is in the clear`);
}
