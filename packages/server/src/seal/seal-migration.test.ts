import { describe, expect, it } from 'vitest';
import { aesSeal, sealBeds } from '../../test/seal-manager.js';
import type { EntryStore } from '../storage/entry-store.js';
import { CORE } from '../storage/layout.js';
import { createRootKey } from './root-key.js';
import { SealManager } from './seal-manager.js';

// Seal migration on the manager (docs/operations.md, "Seal migration"): unseal keys to an
// auto-unseal seal and back, with the seal wrapped by AES-GCM in place of an outside service.
describe('seal migration on the seal manager', () => {
  const bed = sealBeds();

  const storedConfig = async (store: EntryStore) => {
    const entry = await store.get(CORE.prefix + CORE.sealConfig);
    return JSON.parse(Buffer.from(entry?.value ?? []).toString('utf8')) as Record<string, unknown>;
  };

  /** Storage initialised with 2-of-3 unseal keys, sealed. */
  const shamirStorage = async () => {
    const opened = await bed();
    const shares = await opened.seal.initialize(3, 2);
    return { ...opened, shares };
  };

  /** Storage initialised for a transit seal with 2-of-3 recovery keys, sealed. */
  const autoStorage = async () => {
    const opened = await bed();
    const seal = aesSeal('transit');
    const first = new SealManager(opened.store, seal.wrapper);
    await first.load();
    const recovery = await first.initialize(3, 2);
    return { ...opened, seal, recovery };
  };

  const migrate = async (manager: SealManager, shares: readonly Buffer[]) => {
    for (const share of shares) await manager.submitShare(share, { migrate: true });
  };

  it('moves unseal keys to an auto-unseal seal: the old keys become recovery keys', async () => {
    const { store, shares } = await shamirStorage();
    const seal = aesSeal('transit');
    const manager = new SealManager(store, seal.wrapper);
    await manager.load();
    expect(manager.migrationPending()).toBe(true);
    await expect(manager.submitShare(shares[0] as Buffer)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message:
        'the configuration names an auto-unseal seal but the storage is sealed with unseal keys: unseal with "migrate": true to migrate (docs/operations.md)',
    });
    await migrate(manager, shares.slice(0, 2));
    expect(manager.isUnsealed()).toBe(true);
    expect(manager.migrationPending()).toBe(false);
    const config = await storedConfig(store);
    expect(config).toMatchObject({
      type: 'transit',
      secret_shares: 1,
      secret_threshold: 1,
      recovery_shares: 3,
      recovery_threshold: 2,
    });
    expect(config.cluster_id).toMatch(/^[0-9a-f-]{36}$/);
    // The old unseal keys authorise as recovery keys, and no longer unseal.
    await manager.authorize(shares.slice(1, 3).map((s) => Buffer.from(s)));
    const next = new SealManager(store, seal.wrapper);
    expect((await next.autoUnseal()).sealed).toBe(false);
    await next.seal();
    await expect(next.submitShare(shares[0] as Buffer)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message:
        'this server unseals itself with its auto-unseal seal; recovery keys do not unseal it',
    });
  });

  it('refuses a migration another server finished while its keys were being given', async () => {
    const { store, shares, another } = await shamirStorage();
    const seal = aesSeal('transit');
    const late = new SealManager(store, seal.wrapper);
    await late.submitShare(shares[0] as Buffer, { migrate: true });
    const first = new SealManager(store, seal.wrapper);
    await migrate(first, shares.slice(1, 3));
    const wrapped = await store.get(CORE.prefix + CORE.wrappedRootKey);
    await expect(late.submitShare(shares[1] as Buffer, { migrate: true })).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: 'the seal was migrated meanwhile',
    });
    expect(late.isUnsealed()).toBe(false);
    expect((await store.get(CORE.prefix + CORE.wrappedRootKey))?.value).toEqual(wrapped?.value);
    expect((await another()).sealType()).toBe('transit');
  });

  it('moves an auto-unseal seal back to unseal keys: the recovery keys become unseal keys', async () => {
    const { store, seal, recovery } = await autoStorage();
    const before = await storedConfig(store);
    const manager = new SealManager(store, seal.wrapper, { migrateAway: true });
    await manager.load();
    expect(manager.migrationPending()).toBe(true);
    await expect(manager.submitShare(recovery[0] as Buffer)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message:
        'the seal stanza is disabled: give the recovery keys with "migrate": true to migrate to unseal keys (docs/operations.md)',
    });
    await migrate(manager, recovery.slice(0, 2));
    expect(manager.isUnsealed()).toBe(true);
    // Still configured with the disabled stanza, but nothing is left to migrate.
    expect(manager.migrationPending()).toBe(false);
    const config = await storedConfig(store);
    expect(config).toEqual({
      secret_shares: 3,
      secret_threshold: 2,
      cluster_id: before.cluster_id,
      created_time: before.created_time,
    });
    expect(await store.get(CORE.prefix + CORE.wrappedRootKey)).toBeUndefined();
    expect(await store.get(CORE.prefix + CORE.recoveryKey)).toBeUndefined();
    // A server without a seal stanza unseals with the former recovery keys.
    const shamir = new SealManager(store);
    for (const share of recovery.slice(1, 3)) await shamir.submitShare(share);
    expect(shamir.isUnsealed()).toBe(true);
    expect(shamir.sealType()).toBe('shamir');
  });

  it('keeps the cluster id through a migration away and back', async () => {
    const { store, seal, recovery } = await autoStorage();
    const { cluster_id: clusterId } = await storedConfig(store);
    await migrate(
      new SealManager(store, seal.wrapper, { migrateAway: true }),
      recovery.slice(0, 2),
    );
    await migrate(new SealManager(store, seal.wrapper), recovery.slice(0, 2));
    expect((await storedConfig(store)).cluster_id).toBe(clusterId);
    expect((await new SealManager(store, seal.wrapper).autoUnseal()).sealed).toBe(false);
  });

  it('refuses recovery keys of another key set and stays sealed with storage unchanged', async () => {
    const { store, seal } = await autoStorage();
    const before = await storedConfig(store);
    const stranger = await createRootKey(3, 2);
    stranger.rootKey.fill(0);
    const manager = new SealManager(store, seal.wrapper, { migrateAway: true });
    await manager.submitShare(stranger.keyShares[0] as Buffer, { migrate: true });
    await expect(
      manager.submitShare(stranger.keyShares[1] as Buffer, { migrate: true }),
    ).rejects.toMatchObject({
      code: 'ERR_UNSEAL_FAILED',
      message: 'the recovery keys given do not reproduce the recovery key; progress was reset',
    });
    expect(manager.isUnsealed()).toBe(false);
    expect(manager.status().progress).toBe(0);
    expect(await storedConfig(store)).toEqual(before);
  });

  it.each([
    ['wrapped root key', CORE.wrappedRootKey, 'the wrapped root key is missing'],
    ['recovery key', CORE.recoveryKey, 'the recovery key is missing'],
  ])('fails closed when the %s is gone from storage', async (_name, path, message) => {
    const { store, seal, recovery } = await autoStorage();
    await store.delete(CORE.prefix + path);
    const manager = new SealManager(store, seal.wrapper, { migrateAway: true });
    await expect(migrate(manager, recovery.slice(0, 2))).rejects.toMatchObject({
      code: 'ERR_STORAGE_INTEGRITY',
      message,
    });
    expect(manager.isUnsealed()).toBe(false);
    expect((await storedConfig(store)).type).toBe('transit');
  });

  it('refuses a recovery key rekey once the seal was migrated to unseal keys', async () => {
    const { store, seal, recovery } = await autoStorage();
    const held = new SealManager(store, seal.wrapper);
    await held.autoUnseal();
    await migrate(
      new SealManager(store, seal.wrapper, { migrateAway: true }),
      recovery.slice(0, 2),
    );
    const { rootKey } = await createRootKey(1, 1);
    await expect(held.replaceRecoveryKey(rootKey, 3, 2)).rejects.toMatchObject({
      code: 'ERR_INVALID_REQUEST',
      message: 'the seal was migrated meanwhile',
    });
    rootKey.fill(0);
  });

  it('names the seal in the refusal of a sealed server', async () => {
    const { seal } = await shamirStorage();
    await expect(seal.reloadKeyring()).rejects.toMatchObject({
      code: 'ERR_SEALED',
      message: 'Vault is sealed',
    });
  });
});
