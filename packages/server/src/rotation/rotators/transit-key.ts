import { randomBytes, timingSafeEqual } from 'node:crypto';
import { CustosError } from '@custos/core/errors';
import { decryptWithKey, encryptWithKey } from '@custos/core/internal/transit';
import type { AnyKysely } from '@custos/reencrypt';
import type { TransitStore } from '../../transit/transit-store.js';
import type { Rotator } from '../rotator.js';
import { type RewrapProgressStore, runRewrap } from './rewrap-job.js';
import { transitKeySettings } from './transit-key-settings.js';

/** What the `transit-key` rotator needs from the server. */
export interface TransitKeyRotatorDeps {
  readonly transit: Pick<TransitStore, 'view' | 'rotate' | 'forEncryption' | 'configure'>;
  readonly progress: RewrapProgressStore;
  /** The databases policies may name (server option `rotationDatabases`). */
  readonly databases: Readonly<Record<string, AnyKysely>>;
  readonly now: () => number;
}

function versionOf(pending: Readonly<Record<string, unknown>>): number {
  const version = pending.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw new Error('the pending value names no transit key version');
  return version;
}

/**
 * The `transit-key` rotator: rotates a transit key, then rewraps the ciphertexts of it that
 * applications stored in database columns (`targets`) to the new version, batch by batch,
 * resumable (the last id done is saved behind the barrier after each batch). The rotated KV
 * secret records `{ key, version }`: the version the rotation made current.
 *
 * - create: `{ key, version: latest + 1 }`.
 * - set: rotates the key unless its latest version already is `version` or newer (idempotent).
 * - test: an encrypt/decrypt round trip of random bytes with `version`.
 * - background (after finish, not waited for): the rewrap job; progress at
 *   `sys/rotation/rewrap/<rotation id>`. The old key version's value is not retired before it
 *   is done.
 *
 * Who may write such a policy must hold `update` on `transit/keys/<key>/rotate` and
 * `transit/rewrap/<key>` (the policy route checks it): the scheduler later rotates with the
 * server's rights, not the writer's.
 *
 * - retire (grace period over, rewrap done), with `retire_old_versions`: raises the key's
 *   `min_decryption_version` to the version made current (never lowers it).
 *
 * Settings: `key`, `targets` (`[{ database, table, id_column, column }]`, `database` naming an
 * entry of the server's `rotationDatabases`), `batch_size` (default 500), `retire_old_versions`
 * (default false; then the writer also needs `update` on `transit/keys/<key>/config`).
 *
 * @example
 * ```ts
 * registry.register(transitKeyRotator({ transit, progress, databases: { app: db }, now: Date.now }));
 * ```
 */
export function transitKeyRotator(deps: TransitKeyRotatorDeps): Rotator {
  const known = (name: string) => Object.hasOwn(deps.databases, name);
  return {
    name: 'transit-key',
    checkSettings(settings) {
      transitKeySettings(settings, known);
    },
    requiredRights(settings) {
      const { key, retireOldVersions } = transitKeySettings(settings, known);
      return [
        { path: `transit/keys/${key}/rotate`, capability: 'update' },
        { path: `transit/rewrap/${key}`, capability: 'update' },
        ...(retireOldVersions
          ? [{ path: `transit/keys/${key}/config`, capability: 'update' as const }]
          : []),
      ];
    },
    async preflight({ settings }) {
      const { key } = transitKeySettings(settings, known);
      await deps.transit.view(key);
    },
    async create({ settings }) {
      const { key } = transitKeySettings(settings, known);
      const view = await deps.transit.view(key);
      if (view.policy.derived)
        throw new CustosError(
          'ERR_INVALID_REQUEST',
          'the transit-key rotator rewraps ciphertexts of keys without derivation only',
        );
      return { key, version: view.policy.latest_version + 1 };
    },
    async set({ settings, pending }) {
      const { key } = transitKeySettings(settings, known);
      const version = versionOf(pending);
      const view = await deps.transit.view(key);
      if (view.policy.latest_version < version) await deps.transit.rotate(key);
    },
    async test({ settings, pending }) {
      const { key } = transitKeySettings(settings, known);
      const version = versionOf(pending);
      // A counted encryption, as any other under the key (rotate_after_encryptions).
      const session = await deps.transit.forEncryption(key, 1, [version]);
      const plaintext = randomBytes(32);
      const { ciphertext } = encryptWithKey(await session.take(version), {
        plaintext,
        keyVersion: version,
      });
      const { plaintext: back, keyVersion } = decryptWithKey(session.view, { ciphertext });
      if (keyVersion !== version || !timingSafeEqual(back, plaintext))
        throw new Error(`version ${version} of transit key ${key} does not round-trip`);
    },
    async background({ rotationId, settings, pending, signal }) {
      const { key, targets, batchSize } = transitKeySettings(settings, known);
      await runRewrap(
        {
          transit: deps.transit,
          progress: deps.progress,
          database: (name) => (known(name) ? deps.databases[name] : undefined),
          now: deps.now,
          signal,
        },
        { rotationId, key, version: versionOf(pending), targets, batchSize },
      );
    },
    // The engine calls it only once the rewrap succeeded and the grace period ended: the
    // registered ciphertexts are all under the new version by then.
    async retire({ settings, current }) {
      const { key, retireOldVersions } = transitKeySettings(settings, known);
      if (!retireOldVersions) return;
      const version = versionOf(current);
      const view = await deps.transit.view(key);
      if (view.policy.min_decryption_version < version)
        await deps.transit.configure(key, { minDecryptionVersion: version });
    },
  };
}
