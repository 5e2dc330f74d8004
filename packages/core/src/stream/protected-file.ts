import { CustosError, isCustosError } from '../errors/index.js';
import { IterableBatchSource } from './batch-source.js';
import { ByteReader } from './byte-reader.js';
import { openChunks, sealChunks } from './chunks.js';
import { describeStanza } from './describe.js';
import { parseHeader } from './format.js';
import { createHeader, payloadKeyOf, resealHeader, unlockHeader } from './header.js';
import { armor, isProtectedKeyFile, unarmor } from './protected-armor.js';
import type { BackupIdentity, BackupRecipient } from './recipient.js';

/**
 * The environment variables that name unlock keys for protected key files, read when no
 * `identities` are given: a passphrase file, an X25519 identity file, a 32-byte key file. A
 * file protected for a transit key is opened through the server at `CUSTOS_ADDR` with
 * `CUSTOS_TOKEN` (mount `CUSTOS_KEY_TRANSIT_MOUNT`, default `transit`).
 *
 * @example
 * ```ts
 * process.env[KEY_UNLOCK_ENV.passphraseFile] = '/run/secrets/key-passphrase';
 * const keyring = await readKeyringFile('keyring.json');
 * ```
 */
export const KEY_UNLOCK_ENV = {
  passphraseFile: 'CUSTOS_KEY_PASSPHRASE_FILE',
  identity: 'CUSTOS_KEY_IDENTITY',
  keyFile: 'CUSTOS_KEY_KEY_FILE',
  transitMount: 'CUSTOS_KEY_TRANSIT_MOUNT',
} as const;

/**
 * How a protected key file is opened: `identities` (any {@link BackupIdentity}: a passphrase,
 * an X25519 identity, a key file, a transit key), or else the keys the environment names
 * ({@link KEY_UNLOCK_ENV}; `env` defaults to `process.env`).
 *
 * @example
 * ```ts
 * const unlock: KeyFileUnlockOptions = { identities: [await readPassphraseFile('/run/secrets/key-pass')] };
 * const keyring = await readKeyringFile('keyring.json', { unlock });
 * ```
 */
export interface KeyFileUnlockOptions {
  readonly identities?: readonly BackupIdentity[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A protected key file opened: its text, and how to write new text for the same keys. */
export interface OpenedKeyFile {
  readonly text: string;
  /** Whether the file was protected; if so, {@link reseal} writes new text for the same keys. */
  readonly protected: boolean;
  /** New content sealed for the keys the file was protected for (the text as is when it was plain). */
  reseal(text: string): Promise<string>;
}

/**
 * Protects the text of a key file (a keyring, a JWT keyset, a local KMS file, an escrow bundle):
 * it is encrypted as a custos backup (`FORMAT.md`: the same recipients and stanzas) and armored
 * as text. Every loader opens it again with {@link KeyFileUnlockOptions}.
 *
 * @example
 * ```ts
 * const text = await protectKeyFile(serializeKeyring(keyring), { recipients: [await readPassphraseFile('pass.txt')] });
 * await writeFile('keyring.json', text, { mode: 0o600 });
 * ```
 */
export async function protectKeyFile(
  text: string,
  options: { readonly recipients: readonly BackupRecipient[] },
): Promise<string> {
  if (isProtectedKeyFile(text)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'the key file is protected already');
  }
  const { bytes, payloadKey } = await createHeader(options.recipients);
  return armor(
    Buffer.concat([
      bytes,
      ...(await collect(sealChunks(new IterableBatchSource(one(text)), payloadKey))),
    ]),
  );
}

/**
 * Opens a protected key file's text, or returns plain text as it is. `ERR_KEY_FILE_LOCKED` when
 * no unlock key opens it (the message names what it needs and the variables that give keys);
 * `ERR_DECRYPTION_FAILED` / `ERR_MALFORMED_CIPHERTEXT` when it was altered.
 *
 * @example
 * ```ts
 * const keyring = loadKeyring(await unprotectKeyFile(await readFile('keyring.json', 'utf8')));
 * ```
 */
export async function unprotectKeyFile(
  text: string,
  options: KeyFileUnlockOptions | undefined = {},
): Promise<string> {
  return (await openKeyFileText(text, 'key file', options)).text;
}

/**
 * Opens a key file's text with what it needs to be written back under the same protection.
 * @internal
 */
export async function openKeyFileText(
  text: string,
  what: string,
  options: KeyFileUnlockOptions | undefined = {},
): Promise<OpenedKeyFile> {
  if (!isProtectedKeyFile(text)) {
    return { text, protected: false, reseal: async (next) => next };
  }
  const bytes = unarmor(text, what);
  const reader = new ByteReader(one(bytes));
  const header = await parseHeader((n) => reader.read(n));
  const identities = options.identities ?? (await identitiesFromEnv(options.env ?? process.env));
  let fileKey: Buffer;
  try {
    if (identities.length === 0) throw new CustosError('ERR_BACKUP_KEY_MISMATCH', 'no key');
    fileKey = await unlockHeader(header, identities);
  } catch (err) {
    if (!isCustosError(err, 'ERR_BACKUP_KEY_MISMATCH')) throw err;
    const needs = header.stanzas.map((s) => describeStanza(s).summary).join('; ');
    throw new CustosError(
      'ERR_KEY_FILE_LOCKED',
      `${what} is protected and ${identities.length === 0 ? 'no unlock key was given' : 'none of the unlock keys given opens it'}; it needs one of: ${needs} (set ${KEY_UNLOCK_ENV.passphraseFile}, ${KEY_UNLOCK_ENV.identity} or ${KEY_UNLOCK_ENV.keyFile}, or CUSTOS_ADDR and CUSTOS_TOKEN for a transit key)`,
    );
  }
  const payloadKey = payloadKeyOf(fileKey, header.payloadSalt);
  const plain = Buffer.concat(
    await collect(openChunks(new IterableBatchSource(reader.rest()), payloadKey)),
  );
  const key = Buffer.from(fileKey);
  fileKey.fill(0);
  return {
    text: plain.toString('utf8'),
    protected: true,
    async reseal(next: string) {
      const sealed = resealHeader(key, header);
      return armor(
        Buffer.concat([
          sealed.bytes,
          ...(await collect(sealChunks(new IterableBatchSource(one(next)), sealed.payloadKey))),
        ]),
      );
    },
  };
}

/** The unlock keys the environment names (none when it names none). */
async function identitiesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Promise<BackupIdentity[]> {
  const identities: BackupIdentity[] = [];
  const set = (name: string) => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  // Loaded only here: Argon2id's native module and the HTTP client stay out of plain loads.
  const identity = set(KEY_UNLOCK_ENV.identity);
  if (identity !== undefined) {
    const { readBackupIdentityFile } = await import('./identity-file.js');
    identities.push(...(await readBackupIdentityFile(identity, { unlock: { env } })));
  }
  const keyFile = set(KEY_UNLOCK_ENV.keyFile);
  if (keyFile !== undefined) {
    const { readBackupKeyFile } = await import('./symmetric-key.js');
    identities.push(await readBackupKeyFile(keyFile));
  }
  const passphrase = set(KEY_UNLOCK_ENV.passphraseFile);
  if (passphrase !== undefined) {
    const { readPassphraseFile } = await import('./passphrase.js');
    identities.push(await readPassphraseFile(passphrase));
  }
  if (set('CUSTOS_ADDR') !== undefined || set('VAULT_ADDR') !== undefined) {
    const mount = set(KEY_UNLOCK_ENV.transitMount) ?? 'transit';
    const { transitIdentity } = await import('./transit-key.js');
    const { createTransitClient } = await import('../kms/transit-client.js');
    identities.push(transitIdentity(() => createTransitClient({ mount })));
  }
  return identities;
}

async function* one(data: string | Buffer): AsyncGenerator<Buffer> {
  yield typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const piece of source) out.push(piece);
  return out;
}
