import { describe, expect, it } from 'vitest';
import { sealBeds } from '../../test/seal-manager.js';
import type { EntryStore } from '../storage/entry-store.js';
import { CORE } from '../storage/layout.js';
import { SealManager } from './seal-manager.js';

// reloadKeyring: adopts another node's rotation, never an older or the same revision again,
// and never re-opens keys for a manager sealed while it read.
describe('keyring reload on the seal manager', () => {
  const bed = sealBeds();

  it('keeps the keyring it holds when storage has the same revision, adopts a newer one', async () => {
    const { seal, another } = await bed();
    const [share] = await seal.initialize(1, 1);
    await seal.submitShare(share as Buffer);
    const held = seal.keyring();
    await seal.reloadKeyring();
    expect(seal.keyring()).toBe(held);
    const other = await another();
    await other.submitShare(share as Buffer);
    const version = await other.rotateBarrierKey();
    await seal.reloadKeyring();
    expect(seal.keyring()).not.toBe(held);
    expect(seal.keyring().toJSON()).toEqual(other.keyring().toJSON());
    expect(version).toBeGreaterThan(1);
  });

  /**
   * An unsealed manager (1 of 1) over the bed's real store, whose next keyring read after
   * `holdNextRead()` waits for `release()`.
   */
  const withHeldRead = async () => {
    const { store } = await bed();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const heldStore = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'get' || typeof value !== 'function') return value;
        return async (path: string, ...rest: unknown[]) => {
          if (holding && path === CORE.prefix + CORE.keyring) {
            holding = false;
            await held;
          }
          return value.call(target, path, ...rest);
        };
      },
    }) as EntryStore;
    const seal = new SealManager(heldStore);
    await seal.load();
    const [share] = await seal.initialize(1, 1);
    await seal.submitShare(share as Buffer);
    const holdNextRead = () => {
      holding = true;
    };
    return { seal, share: share as Buffer, holdNextRead, release };
  };

  it('refuses, and opens nothing, when the manager is sealed while the keyring is read', async () => {
    const { seal, holdNextRead, release } = await withHeldRead();
    holdNextRead();
    const reload = seal.reloadKeyring();
    await seal.seal();
    release();
    await expect(reload).rejects.toMatchObject({ code: 'ERR_SEALED', message: 'Vault is sealed' });
    expect(seal.phase()).toBe('sealed');
    expect(() => seal.keyring()).toThrow(expect.objectContaining({ code: 'ERR_SEALED' }));
  });

  it('refuses a reload begun under an earlier unseal, even when the manager is unsealed again', async () => {
    const { seal, share, holdNextRead, release } = await withHeldRead();
    holdNextRead();
    const reload = seal.reloadKeyring();
    await seal.seal();
    await seal.submitShare(share);
    const reopened = seal.keyring();
    release();
    await expect(reload).rejects.toMatchObject({ code: 'ERR_SEALED', message: 'Vault is sealed' });
    expect(seal.phase()).toBe('unsealed');
    expect(seal.keyring()).toBe(reopened);
  });
});
