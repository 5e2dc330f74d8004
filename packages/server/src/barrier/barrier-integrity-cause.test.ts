import { Keyring } from '@custos/core/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSealBed, type SealBed } from '../../test/seal-manager.js';
import { BARRIER_KEY, type Barrier, createBarrier } from './barrier.js';

// A refused entry keeps what went wrong as its cause, and the keyring is reloaded only for an
// unknown version of this server's own barrier key, never for a damaged entry or a foreign key.
describe('barrier integrity failures', () => {
  let bed: SealBed;
  let barrier: Barrier;
  let reloads = 0;
  beforeAll(async () => {
    bed = await openSealBed();
    const [share] = await bed.seal.initialize(1, 1);
    await bed.seal.submitShare(share as Buffer);
    await bed.seal.rotateBarrierKey(); // two known versions
    barrier = createBarrier(bed.store, {
      keyring: () => bed.seal.keyring(),
      reloadKeyring: async () => {
        reloads++;
        await bed.seal.reloadKeyring();
      },
    });
  });
  afterAll(async () => {
    await bed.close();
  });

  it('a damaged entry under a known version: refused with its cause, no reload', async () => {
    await barrier.write('app/damaged', { v: 1 });
    const stored = await bed.store.get('app/damaged');
    const bytes = Buffer.from(stored?.value as Uint8Array);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    await bed.store.put('app/damaged', bytes);
    reloads = 0;
    await expect(barrier.read('app/damaged')).rejects.toMatchObject({
      code: 'ERR_STORAGE_INTEGRITY',
      cause: expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    });
    expect(reloads).toBe(0);
  });

  it("an entry under another keyring's key, at a version this one lacks: refused, no reload", async () => {
    const foreign = new Keyring();
    foreign.createKey(BARRIER_KEY);
    for (let i = 0; i < 3; i++) foreign.rotate(BARRIER_KEY);
    const path = 'app/foreign';
    await bed.store.put(path, foreign.encrypt(BARRIER_KEY, '{"v":1}', { aad: { path } }));
    reloads = 0;
    await expect(barrier.read(path)).rejects.toMatchObject({ code: 'ERR_STORAGE_INTEGRITY' });
    expect(reloads).toBe(0);
  });
});
