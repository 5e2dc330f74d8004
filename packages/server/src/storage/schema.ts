import type { Generated } from 'kysely';

/**
 * The whole physical schema: one table of opaque entries, as Vault's storage backends have.
 * `value` is ciphertext (barrier-encrypted, or root-key-encrypted for `core/keyring`) except
 * for `core/seal-config`, which holds only share counts. `revision` starts at a random value
 * (`firstRevision` in `entry-store.ts`), increases on every update and settles concurrent writers.
 */
export interface EntryTable {
  path: string;
  value: Uint8Array;
  revision: Generated<number>;
}

export interface StorageSchema {
  custos_entries: EntryTable;
}
