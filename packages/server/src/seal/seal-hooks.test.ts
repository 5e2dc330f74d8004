import { describe, expect, it } from 'vitest';
import { sealBeds } from '../../test/seal-manager.js';
import { BARRIER_KEY } from '../barrier/barrier.js';

// Which hooks run when, and which keys a manager holds in each phase, on the manager itself.
describe('seal hooks and held keys', () => {
  const bed = sealBeds();

  /** An initialised manager (1 of 1) with a recorder of every hook call, in order. */
  const recorded = async () => {
    const opened = await bed();
    const [share] = await opened.seal.initialize(1, 1);
    const calls: string[] = [];
    opened.seal.onUnseal(async () => {
      calls.push(`unseal:${opened.seal.phase()}`);
    });
    opened.seal.onBeforeSeal(async () => {
      calls.push(`before-seal:${opened.seal.phase()}`);
      opened.seal.keyring(); // the keys are still held
    });
    opened.seal.onSeal(() => {
      calls.push(`seal:${opened.seal.phase()}`);
    });
    return { ...opened, share: share as Buffer, calls };
  };

  it('unseal hooks run while unsealing, with the keyring; before-seal and seal hooks around the drop', async () => {
    const { seal, share, calls } = await recorded();
    await seal.seal(); // sealed already: no hook runs
    expect(calls).toEqual([]);
    await seal.submitShare(Buffer.from(share));
    expect(calls).toEqual(['unseal:unsealing']);
    expect(seal.keyring().info(BARRIER_KEY).versions).toHaveLength(1);
    expect(() => seal.requireUnsealed()).not.toThrow();
    await Promise.all([seal.seal(), seal.seal()]); // concurrent calls share one seal
    expect(calls).toEqual(['unseal:unsealing', 'before-seal:sealing', 'seal:sealed']);
    expect(seal.isUnsealed()).toBe(false);
    expect(() => seal.keyring()).toThrow(
      expect.objectContaining({ code: 'ERR_SEALED', message: 'Vault is sealed' }),
    );
    expect(() => seal.requireUnsealed()).toThrow(
      expect.objectContaining({ code: 'ERR_SEALED', message: 'Vault is sealed' }),
    );
  });

  it('a failing unseal hook seals again: before-seal and seal hooks run, the error is thrown', async () => {
    const { seal, share, calls } = await recorded();
    seal.onUnseal(async () => {
      throw new Error('audit log unavailable');
    });
    await expect(seal.submitShare(Buffer.from(share))).rejects.toThrow('audit log unavailable');
    expect(calls).toEqual(['unseal:unsealing', 'before-seal:sealing', 'seal:sealed']);
    expect(seal.phase()).toBe('sealed');
    expect(seal.status()).toMatchObject({ sealed: true, progress: 0 });
    await expect(seal.rotateBarrierKey()).rejects.toMatchObject({ code: 'ERR_SEALED' });
    await expect(seal.reloadKeyring()).rejects.toMatchObject({ code: 'ERR_SEALED' });
  });

  it('a failed combination runs no hook at all (no keys were held)', async () => {
    const { seal, calls } = await recorded();
    const wrong = Buffer.alloc(41, 1);
    wrong[40] = 0;
    await expect(seal.submitShare(wrong)).rejects.toMatchObject({ code: 'ERR_UNSEAL_FAILED' });
    expect(calls).toEqual([]);
  });

  it('a failing before-seal hook does not stop the seal', async () => {
    const { seal, share, calls } = await recorded();
    seal.onBeforeSeal(async () => {
      throw new Error('flush failed');
    });
    await seal.submitShare(Buffer.from(share));
    await seal.seal();
    expect(calls.at(-1)).toBe('seal:sealed');
    expect(seal.phase()).toBe('sealed');
  });

  it('a rotation adds a version on every node; a reload never goes back to an older keyring', async () => {
    const first = await recorded();
    const other = await first.another();
    await first.seal.submitShare(Buffer.from(first.share));
    await other.submitShare(Buffer.from(first.share));
    expect(await first.seal.rotateBarrierKey()).toBe(2);
    // The other node rotates from the stored keyring (version 2), not its stale copy.
    expect(await other.rotateBarrierKey()).toBe(3);
    expect(first.seal.keyring().info(BARRIER_KEY).versions).toHaveLength(2);
    await first.seal.reloadKeyring();
    expect(first.seal.keyring().info(BARRIER_KEY).versions).toHaveLength(3);
    // Nothing newer in storage: the keyring held stays as it is, encryption counts included.
    const held = first.seal.keyring();
    held.encrypt(BARRIER_KEY, 'counted');
    await first.seal.reloadKeyring();
    expect(first.seal.keyring()).toBe(held);
  });

  it('a reload keeps the encryptions this node counted since the keyring was last stored', async () => {
    const first = await recorded();
    const other = await first.another();
    await first.seal.submitShare(Buffer.from(first.share));
    await other.submitShare(Buffer.from(first.share));
    for (let i = 0; i < 3; i++) first.seal.keyring().encrypt(BARRIER_KEY, `value ${i}`);
    await other.rotateBarrierKey();
    await first.seal.reloadKeyring();
    const versions = first.seal.keyring().info(BARRIER_KEY).versions;
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect(versions[0]?.encryptions).toBe(3);
  });
});
