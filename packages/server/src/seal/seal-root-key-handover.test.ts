import { describe, expect, it } from 'vitest';
import { sealBeds } from '../../test/seal-manager.js';
import { CORE } from '../storage/layout.js';
import { combineRootKey, createRootKey, encryptKeyring } from './root-key.js';
import type { SealManager } from './seal-manager.js';

// A rekey on one server leaves the new root key under the barrier keyring; another server that
// holds the old root key takes it from there the next time it opens the stored keyring, or
// refuses with a clear error when it cannot (NOTES.md, "Rekey on several servers").
describe('root key handover after a rekey on another server', () => {
  const bed = sealBeds();

  /** Two managers on one storage, both unsealed with the same 2-of-3 shares. */
  const twoUnsealed = async () => {
    const opened = await bed();
    const shares = await opened.seal.initialize(3, 2);
    const other = await opened.another();
    for (const manager of [opened.seal, other])
      for (const share of shares.slice(0, 2)) await manager.submitShare(share);
    return { ...opened, rekeyed: opened.seal, follower: other, shares };
  };

  /** Rekeys on `manager` to new 3-of-5 shares; returns them. */
  const rekey = async (manager: SealManager) => {
    const { rootKey, keyShares } = await createRootKey(5, 3);
    await manager.replaceRootKey(rootKey, 5, 3);
    rootKey.fill(0);
    return keyShares;
  };

  it('takes the new root key and share counts, and keeps the keyring under the new key', async () => {
    const { rekeyed, follower } = await twoUnsealed();
    const newShares = await rekey(rekeyed);
    expect(follower.shareCounts()).toEqual({ shares: 3, threshold: 2 });

    await follower.reloadKeyring();
    expect(follower.shareCounts()).toEqual({ shares: 5, threshold: 3 });
    // The follower now writes the keyring under the new root key: the rekeyed server reads it
    // without a handover, and the new shares open it after a seal.
    const version = await follower.rotateBarrierKey();
    await rekeyed.reloadKeyring();
    expect(rekeyed.keyring().info('barrier').primaryVersion).toBe(version);
    await follower.seal();
    for (const share of newShares.slice(0, 3)) await follower.submitShare(share);
    expect(follower.isUnsealed()).toBe(true);
    const { versions } = follower.keyring().info('barrier');
    expect(versions.map((v) => v.version)).toContain(version);
  });

  it('refuses with a clear error when the new root key was not left for it', async () => {
    const { rekeyed, follower, store } = await twoUnsealed();
    await rekey(rekeyed);
    await store.delete(CORE.prefix + CORE.rootKey);
    await expect(follower.reloadKeyring()).rejects.toMatchObject({
      code: 'ERR_STORAGE_INTEGRITY',
      message:
        'the root key was changed by a rekey this server cannot follow: seal it and unseal it with the new keys',
    });
    await expect(follower.rotateBarrierKey()).rejects.toMatchObject({
      code: 'ERR_STORAGE_INTEGRITY',
    });
  });

  it('does not take a damaged keyring for a rekey: the damage is reported as it is', async () => {
    const { follower, store, shares } = await twoUnsealed();
    const rootKey = await combineRootKey(shares.slice(0, 2), 2);
    const path = CORE.prefix + CORE.keyring;
    const entry = await store.get(path);
    // Opens under the root key held, but is not a keyring.
    await store.update(path, encryptKeyring(rootKey, '{"keys":"none"}'), entry?.revision ?? 0);
    rootKey.fill(0);
    const failure = await follower.reloadKeyring().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).not.toMatch(/rekey/);
    expect((failure as { code?: string }).code).not.toBe('ERR_UNSEAL_FAILED');
  });
});
