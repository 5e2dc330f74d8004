import type { Generated } from 'kysely';

/**
 * The whole physical schema: one table of opaque entries, as Vault's storage backends have.
 * `value` is ciphertext (barrier-encrypted, or root-key-encrypted for `core/keyring`) except
 * for `core/seal-config`, which holds only share counts. `revision` increases on every update
 * and settles concurrent writers (see `entry-store.ts`).
 */
export interface EntryTable {
  path: string;
  value: Uint8Array;
  revision: Generated<number>;
}

export interface StorageSchema {
  custos_entries: EntryTable;
}
