import { type Keyring, type KeyringJson, loadKeyring, serializeKeyring } from '@custos/core/crypto';
import { ServerError } from '../errors.js';
import type { EntryWriter, StoredEntry } from '../storage/entry-store.js';
import { CORE } from '../storage/layout.js';
import { decryptKeyring, encryptKeyring } from './root-key.js';

/** The barrier keyring, encrypted under the root key (not the barrier). */
const KEYRING_PATH = CORE.prefix + CORE.keyring;

/** A barrier keyring and the revision of the `core/keyring` entry it was read from. */
export interface StoredKeyring {
  readonly keyring: Keyring;
  readonly revision: number;
}

/**
 * Reads the encrypted keyring entry. Decrypt it with {@link openStoredKeyring} once the caller
 * has checked that it still holds the root key (a seal may have happened during the read).
 */
export async function readKeyringEntry(store: EntryWriter): Promise<StoredEntry> {
  const entry = await store.get(KEYRING_PATH);
  if (entry === undefined)
    throw new ServerError('ERR_NOT_INITIALIZED', 'the barrier keyring is missing');
  return entry;
}

/**
 * Decrypts a keyring entry. Encryption counters are persisted only when the keyring is
 * rewritten, so the counts this process made since (in `current`) would be lost by a plain
 * reload: each version keeps the larger of the stored and the in-memory count.
 */
export function openStoredKeyring(
  rootKey: Buffer,
  entry: StoredEntry,
  current?: Keyring,
): StoredKeyring {
  const stored = decryptKeyring(rootKey, entry.value);
  const keyring = loadKeyring(current === undefined ? stored : withLargerCounts(stored, current));
  return { keyring, revision: entry.revision };
}

/** Creates `core/keyring` (init). */
export async function insertKeyring(
  tx: EntryWriter,
  rootKey: Buffer,
  keyring: Keyring,
): Promise<void> {
  await tx.insert(KEYRING_PATH, encryptKeyring(rootKey, serializeKeyring(keyring)));
}

/**
 * Replaces `core/keyring` only if it is still at `revision`; throws `ERR_VERSION_CONFLICT` when
 * another node rewrote it first (its rotation must not be overwritten). Returns the new revision.
 */
export async function replaceKeyring(
  store: EntryWriter,
  rootKey: Buffer,
  keyring: Keyring,
  revision: number,
): Promise<number> {
  return store.update(KEYRING_PATH, encryptKeyring(rootKey, serializeKeyring(keyring)), revision);
}

function withLargerCounts(storedJson: string, current: Keyring): KeyringJson {
  const stored = JSON.parse(storedJson) as KeyringJson;
  const counts = new Map<string, number>();
  for (const key of current.keyNames()) {
    const info = current.info(key);
    for (const v of info.versions) counts.set(`${info.id}/${v.version}`, v.encryptions);
  }
  return {
    ...stored,
    keys: stored.keys.map((key) => ({
      ...key,
      versions: key.versions.map((v) => ({
        ...v,
        encryptions: Math.max(v.encryptions, counts.get(`${key.id}/${v.version}`) ?? 0),
      })),
    })),
  };
}
