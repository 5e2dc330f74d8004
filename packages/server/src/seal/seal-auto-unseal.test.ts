import { describe, expect, it, vi } from 'vitest';
import { aesSeal, sealBeds } from '../../test/seal-manager.js';
import { CORE } from '../storage/layout.js';
import { SealManager } from './seal-manager.js';

describe('auto-unseal by the seal manager', () => {
  const bed = sealBeds();

  /** Storage initialised for auto-unseal with `type`, and a fresh sealed manager over it. */
  const initialised = async (type: 'transit' | 'pkcs11' = 'transit') => {
    const opened = await bed();
    const seal = aesSeal(type);
    const first = new SealManager(opened.store, seal.wrapper);
    await first.load();
    await first.initialize(3, 2);
    await first.seal();
    return { ...opened, seal };
  };

  it('refuses an uninitialised server', async () => {
    const opened = await bed();
    const manager = new SealManager(opened.store, aesSeal('transit').wrapper);
    await expect(manager.autoUnseal()).rejects.toMatchObject({
      code: 'ERR_NOT_INITIALIZED',
      message: 'the server is not initialized',
    });
  });

  it('refuses a configuration whose seal is not the stored one, naming both', async () => {
    const shamir = await bed();
    await shamir.seal.initialize(1, 1);
    const configured = new SealManager(shamir.store, aesSeal('transit').wrapper);
    await expect(configured.autoUnseal()).rejects.toMatchObject({
      code: 'ERR_SEAL_UNAVAILABLE',
      message:
        'the storage is sealed with unseal keys but the configuration has a transit seal: unseal with "migrate": true to migrate (docs/operations.md, "Seal migration")',
    });
    const { store } = await initialised('transit');
    const none = new SealManager(store);
    await expect(none.autoUnseal()).rejects.toMatchObject({
      code: 'ERR_SEAL_UNAVAILABLE',
      message:
        'the storage is sealed with a transit seal but the configuration has no seal stanza (docs/operations.md, "Seal migration")',
    });
    const other = new SealManager(store, aesSeal('pkcs11').wrapper);
    await expect(other.autoUnseal()).rejects.toMatchObject({
      code: 'ERR_SEAL_UNAVAILABLE',
      message:
        'the storage is sealed with a transit seal but the configuration has a pkcs11 seal (docs/operations.md, "Seal migration")',
    });
  });

  it('refuses the stored seal when the configuration disables it for a migration', async () => {
    const { store, seal } = await initialised('transit');
    const migrating = new SealManager(store, seal.wrapper, { migrateAway: true });
    await expect(migrating.autoUnseal()).rejects.toMatchObject({
      code: 'ERR_SEAL_UNAVAILABLE',
      message:
        'the transit seal is disabled for a migration: give the recovery keys to sys/unseal with "migrate": true (docs/operations.md, "Seal migration")',
    });
    expect(seal.unwraps()).toBe(0);
    // A disabled stanza of another kind than the stored seal is a mismatch, not this migration.
    const elsewhere = new SealManager(store, aesSeal('pkcs11').wrapper, { migrateAway: true });
    await expect(elsewhere.autoUnseal()).rejects.toMatchObject({
      code: 'ERR_SEAL_UNAVAILABLE',
      message:
        'the storage is sealed with a transit seal but the configuration has a pkcs11 seal (docs/operations.md, "Seal migration")',
    });
  });

  it('answers callers whose reads of the wrapped key end in one turn after the one unseal they share', async () => {
    const { store, seal } = await initialised('transit');
    const wrappedKey = CORE.prefix + CORE.wrappedRootKey;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let waiting = 0;
    // The storage holds both callers' reads of the wrapped root key until both have asked, then
    // answers them in the same turn: the first starts the unseal, the second must wait for it.
    const held = new Proxy(store, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== 'get') return typeof value === 'function' ? value.bind(target) : value;
        return async (path: string) => {
          const entry = await target.get(path);
          if (path === wrappedKey) {
            waiting++;
            await gate;
          }
          return entry;
        };
      },
    });
    const manager = new SealManager(held, seal.wrapper);
    const both = Promise.all([manager.autoUnseal(), manager.autoUnseal()]);
    await vi.waitFor(() => expect(waiting).toBe(2));
    release();
    const [a, b] = await both;
    expect(a.sealed).toBe(false);
    expect(b.sealed).toBe(false);
    expect(seal.unwraps()).toBe(1);
  });

  it('unseals once for callers at the same time, and not again while unsealed', async () => {
    const { store, seal } = await initialised('transit');
    const manager = new SealManager(store, seal.wrapper);
    const [a, b] = await Promise.all([manager.autoUnseal(), manager.autoUnseal()]);
    expect(a.sealed).toBe(false);
    expect(b.sealed).toBe(false);
    expect(manager.phase()).toBe('unsealed');
    expect(seal.unwraps()).toBe(1);
    expect((await manager.autoUnseal()).sealed).toBe(false);
    expect(seal.unwraps()).toBe(1);
  });

  it('waits for a seal in progress, then unseals again', async () => {
    const { store, seal } = await initialised('transit');
    const manager = new SealManager(store, seal.wrapper);
    await manager.autoUnseal();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    manager.onBeforeSeal(() => held);
    const sealing = manager.seal();
    await vi.waitFor(() => expect(manager.phase()).toBe('sealing'));
    const unsealing = manager.autoUnseal();
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    await sealing;
    expect((await unsealing).sealed).toBe(false);
    expect(manager.phase()).toBe('unsealed');
    expect(seal.unwraps()).toBe(2);
  });

  it('lets a caller that comes while the root key is being unwrapped wait for that unwrap', async () => {
    const opened = await bed();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seal = aesSeal('transit', gate);
    const manager = new SealManager(opened.store, seal.wrapper);
    await manager.load();
    await manager.initialize(1, 1);
    await manager.seal();
    const early = manager.autoUnseal();
    await vi.waitFor(() => expect(seal.unwraps()).toBe(1));
    expect(manager.phase()).toBe('unsealing');
    const late = manager.autoUnseal();
    release();
    expect((await late).sealed).toBe(false);
    expect((await early).sealed).toBe(false);
    expect(seal.unwraps()).toBe(1);
  });

  it('fails closed when the wrapped root key is gone from storage', async () => {
    const { store, seal } = await initialised('transit');
    await store.delete(CORE.prefix + CORE.wrappedRootKey);
    const manager = new SealManager(store, seal.wrapper);
    await expect(manager.autoUnseal()).rejects.toMatchObject({
      code: 'ERR_STORAGE_INTEGRITY',
      message: 'the wrapped root key is missing',
    });
    expect(manager.phase()).toBe('sealed');
  });
});
