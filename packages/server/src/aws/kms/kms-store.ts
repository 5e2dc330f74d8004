import type { Barrier } from '../../barrier/barrier.js';
import { barrierView } from '../../barrier/barrier-view.js';
import { isServerError } from '../../errors.js';
import { AWS } from '../../storage/layout.js';
import { AwsError } from '../aws-error.js';

/** An alias as stored: the transit key it names. */
export interface KmsAliasEntry {
  readonly target: string;
  /** Unix seconds. */
  readonly created: number;
  /** Unix seconds. */
  readonly updated: number;
}

/** What the KMS API keeps of a key beyond transit: its description and deletion date. */
export interface KmsKeyEntry {
  /**
   * The transit key's `created_time` when the entry was written: an entry left by a deleted
   * key is not read as its name's next key's.
   */
  readonly keyCreated?: string;
  /**
   * The usage CreateKey gave an RSA key (SIGN_VERIFY or ENCRYPT_DECRYPT): an RSA key serves
   * only that one through the KMS API. Absent: SIGN_VERIFY (keys made through transit).
   */
  readonly keyUsage?: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY';
  readonly description?: string;
  readonly tags?: readonly { readonly TagKey: string; readonly TagValue: string }[];
  /** Unix seconds: when a scheduled deletion falls due (the key is `pending_deletion`). */
  readonly deletionDate?: number;
}

/**
 * The KMS API's own entries (`aws/kms/`, behind the barrier): aliases, and what a key has
 * beyond its transit policy. Alias names are stored as given: `alias/Foo` and `alias/foo` are
 * two aliases (AWS is case-sensitive), and the policy path an alias is judged on is built from
 * the same string.
 *
 * @example
 * ```ts
 * await kms.createAlias('alias/orders', 'orders', now);
 * await kms.resolveAlias('alias/orders'); // 'orders'
 * ```
 */
export interface KmsStore {
  /** The transit key an alias names, or undefined. */
  resolveAlias(alias: string): Promise<string | undefined>;
  /** Creates an alias; AlreadyExistsException when it exists. */
  createAlias(alias: string, target: string, nowSeconds: number): Promise<void>;
  /** Points an existing alias at another key; NotFoundException when it does not exist. */
  updateAlias(alias: string, target: string, nowSeconds: number): Promise<void>;
  /** Deletes an alias; false when there was none. */
  deleteAlias(alias: string): Promise<boolean>;
  /** Every alias, sorted by name. */
  listAliases(): Promise<{ alias: string; entry: KmsAliasEntry }[]>;
  /** What the KMS API keeps of a key (an empty entry for keys made through transit). */
  keyEntry(name: string): Promise<KmsKeyEntry>;
  /** Replaces what the KMS API keeps of a key. */
  setKeyEntry(name: string, entry: KmsKeyEntry): Promise<void>;
}

/**
 * The KMS store on its own storage view (`aws/kms/`).
 *
 * @example
 * ```ts
 * const kms = createKmsStore(barrier);
 * ```
 */
export function createKmsStore(barrier: Barrier): KmsStore {
  const storage = barrierView(barrier, AWS.prefix);
  // `alias/` is the only prefix an alias has: the stored key is the rest.
  const aliasPath = (alias: string) => AWS.kmsAlias + alias.slice('alias/'.length);
  const keyPath = (name: string) => AWS.kmsKey + name;
  return {
    async resolveAlias(alias) {
      return (await storage.read<KmsAliasEntry>(aliasPath(alias)))?.data.target;
    },
    async createAlias(alias, target, nowSeconds) {
      try {
        await storage.create(aliasPath(alias), {
          target,
          created: nowSeconds,
          updated: nowSeconds,
        } satisfies KmsAliasEntry);
      } catch (err) {
        if (isServerError(err, 'ERR_VERSION_CONFLICT'))
          throw new AwsError(
            'AlreadyExistsException',
            `An alias with the name ${alias} already exists`,
          );
        throw err;
      }
    },
    async updateAlias(alias, target, nowSeconds) {
      const stored = await storage.read<KmsAliasEntry>(aliasPath(alias));
      if (stored === undefined)
        throw new AwsError('NotFoundException', `Alias ${alias} does not exist`);
      await storage.replace(
        aliasPath(alias),
        { ...stored.data, target, updated: nowSeconds } satisfies KmsAliasEntry,
        stored.revision,
      );
    },
    async deleteAlias(alias) {
      if ((await storage.revision(aliasPath(alias))) === undefined) return false;
      await storage.remove(aliasPath(alias));
      return true;
    },
    async listAliases() {
      const paths = (await storage.listPaths(AWS.kmsAlias)).sort();
      const out: { alias: string; entry: KmsAliasEntry }[] = [];
      for (const path of paths) {
        const entry = (await storage.read<KmsAliasEntry>(path))?.data;
        if (entry !== undefined)
          out.push({ alias: `alias/${path.slice(AWS.kmsAlias.length)}`, entry });
      }
      return out;
    },
    async keyEntry(name) {
      return (await storage.read<KmsKeyEntry>(keyPath(name)))?.data ?? {};
    },
    async setKeyEntry(name, entry) {
      await storage.write(keyPath(name), entry);
    },
  };
}
