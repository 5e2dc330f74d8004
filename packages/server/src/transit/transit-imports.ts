import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import {
  assertNotRevoked,
  createKeyPolicy,
  materialFingerprints,
  newWrappingKey,
  type TransitKeyPolicy,
  type TransitKeyVersion,
  wasRevoked,
} from '@custos/core/internal/transit';
import type { CreateTransitKeyOptions } from '@custos/core/kms';
import { type Barrier, type BarrierWriter, retryOnConflict } from '../barrier/barrier.js';
import { isServerError } from '../errors.js';
import { TRANSIT } from '../storage/layout.js';

const POLICY = TRANSIT.policy;
const versionPath = (name: string, version: number) => `${TRANSIT.key}${name}/${version}`;

/** How an import builds its version from the key's type (unwrapping and checking the material). */
export type ImportedVersion = (
  type: TransitKeyPolicy['type'],
  version: number,
) => TransitKeyVersion;

/** The BYOK half of the transit store (`transit/wrapping_key`, `keys/:name/import[_version]`). */
export interface TransitImports {
  /** The server's RSA-4096 wrapping key, made on first use and kept behind the barrier. */
  wrappingKey(): Promise<KeyObject>;
  /**
   * Creates key `name` from imported material (`imported_key`, `allow_rotation` on its policy);
   * false when a key of that name exists. Nothing is written when the material is refused.
   */
  importKey(
    name: string,
    options: CreateTransitKeyOptions,
    allowRotation: boolean,
    build: ImportedVersion,
  ): Promise<boolean>;
  /** Adds a version of imported material to an imported key; returns its number. */
  importVersion(name: string, build: ImportedVersion): Promise<number>;
  /** Forgets the wrapping key held in memory (after a seal). */
  clearWrappingKey(): void;
}

/** A stored wrapping key: PKCS#8 DER, base64. */
interface StoredWrappingKey {
  readonly private_key: string;
}

/**
 * The BYOK operations on transit's storage area (`storage` is the transit view, as the store's).
 * Writes go through transactions on the policy entry's revision, so the store's per-node cache
 * (revalidated by that revision) sees them at once; `forget` drops what the store holds for a key
 * whose entries were written here.
 *
 * @example
 * ```ts
 * const imports = createTransitImports(storage, now, (name) => cache.delete(name));
 * const wrapping = createPublicKey(await imports.wrappingKey());
 * ```
 */
export function createTransitImports(
  storage: Barrier,
  now: () => Date,
  forget: (name: string) => void,
): TransitImports {
  let cached: KeyObject | undefined;

  /** Refuses material recorded as revoked (as a restore does): revocation is final. */
  const assertMaterialNotRevoked = async (tx: BarrierWriter, version: TransitKeyVersion) => {
    for (const { fingerprint } of materialFingerprints([version])) {
      if ((await tx.revision(TRANSIT.revokedMaterial + fingerprint)) === undefined) continue;
      const revoked = await tx.read<{ key: string }>(TRANSIT.revokedMaterial + fingerprint);
      assertNotRevoked(version.version, revoked?.data.key ?? 'unknown');
    }
  };

  return {
    clearWrappingKey(): void {
      cached = undefined;
    },

    async wrappingKey(): Promise<KeyObject> {
      if (cached !== undefined) return cached;
      let stored = await storage.read<StoredWrappingKey>(TRANSIT.wrappingKey);
      if (stored === undefined) {
        try {
          await storage.create(TRANSIT.wrappingKey, {
            private_key: (await newWrappingKey()).toString('base64'),
          } satisfies StoredWrappingKey);
        } catch (err) {
          // Another request or node made it first: theirs is the one.
          if (!isServerError(err, 'ERR_VERSION_CONFLICT')) throw err;
        }
        stored = await storage.read<StoredWrappingKey>(TRANSIT.wrappingKey);
      }
      if (stored === undefined)
        throw new CustosError('ERR_NOT_FOUND', 'transit wrapping key not found');
      cached = createPrivateKey({
        key: Buffer.from(stored.data.private_key, 'base64'),
        format: 'der',
        type: 'pkcs8',
      });
      return cached;
    },

    async importKey(name, options, allowRotation, build): Promise<boolean> {
      const base = createKeyPolicy(name, options, now());
      const policy: TransitKeyPolicy = {
        ...base,
        imported_key: true,
        allow_rotation: allowRotation,
      };
      // Unwrapped and checked before anything is written.
      const first = build(policy.type, 1);
      try {
        await storage.transaction(async (tx) => {
          await assertMaterialNotRevoked(tx, first);
          await tx.create(versionPath(name, 1), first);
          await tx.create(POLICY + name, policy);
          for (const path of await tx.listPaths(`${TRANSIT.usage}${name}/`)) await tx.remove(path);
        });
      } catch (err) {
        if (isServerError(err, 'ERR_VERSION_CONFLICT')) return false;
        throw err;
      }
      forget(name);
      return true;
    },

    async importVersion(name, build): Promise<number> {
      const added = await retryOnConflict(() =>
        storage.transaction(async (tx) => {
          const stored = await tx.read<TransitKeyPolicy>(POLICY + name);
          if (stored === undefined)
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              `no key found with name ${name}; to import a new key, use the import endpoint`,
            );
          const policy = stored.data;
          if (policy.imported_key !== true)
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              'the import_version endpoint can only be used with an imported key',
            );
          if (wasRevoked(policy))
            throw new CustosError(
              'ERR_INVALID_KEY_STATE',
              `key ${name} was revoked: it gains no new versions`,
            );
          const next = policy.latest_version + 1;
          const version = build(policy.type, next);
          await assertMaterialNotRevoked(tx, version);
          await tx.create(versionPath(name, next), version);
          await tx.replace(
            POLICY + name,
            { ...policy, latest_version: next, updated_time: now().toISOString() },
            stored.revision,
          );
          return next;
        }),
      );
      forget(name);
      return added;
    },
  };
}

/**
 * The wrapping key's public half as `transit/wrapping_key` shows it: a PEM `PUBLIC KEY`.
 *
 * @example
 * ```ts
 * wrappingPublicKey(await imports.wrappingKey()); // '-----BEGIN PUBLIC KEY-----\n…'
 * ```
 */
export function wrappingPublicKey(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}
