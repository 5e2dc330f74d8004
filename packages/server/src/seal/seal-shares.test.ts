import { describe, expect, it } from 'vitest';
import { sealBeds } from '../../test/seal-manager.js';
import { SHARE_LENGTH } from './root-key.js';

// Initialisation share counts at each edge, and share submission one share at a time, on the
// seal manager itself.
describe('seal share counts and submission', () => {
  const bed = sealBeds();

  const invalid = (message: string) => ({ code: 'ERR_INVALID_REQUEST', message });
  const SHARES = 'secret_shares must be an integer from 1 to 255';
  const THRESHOLD = 'secret_threshold must be an integer from 1 to secret_shares';
  const AT_LEAST_TWO = 'secret_threshold must be at least 2 when there is more than one share';

  it('refuses share counts outside 1..255 and thresholds outside 1..shares, storing nothing', async () => {
    const { seal, another } = await bed();
    for (const [shares, threshold, message] of [
      [0, 1, SHARES],
      [256, 2, SHARES],
      [2.5, 2, SHARES],
      [3, 0, THRESHOLD],
      [3, 4, THRESHOLD],
      [3, 1.5, THRESHOLD],
      [2, 1, AT_LEAST_TWO],
    ] as const) {
      await expect(seal.initialize(shares, threshold)).rejects.toMatchObject(invalid(message));
    }
    expect(seal.isInitialized()).toBe(false);
    expect((await another()).isInitialized()).toBe(false);
  });

  it('takes 1 of 1, n of n and 255 shares; a second initialisation is refused', async () => {
    for (const [shares, threshold] of [
      [1, 1],
      [3, 3],
      [255, 2],
    ] as const) {
      const { seal } = await bed();
      const keyShares = await seal.initialize(shares, threshold);
      expect(keyShares).toHaveLength(shares);
      expect(seal.status()).toMatchObject({
        initialized: true,
        sealed: true,
        t: threshold,
        n: shares,
      });
      await expect(seal.initialize(shares, threshold)).rejects.toMatchObject({
        code: 'ERR_ALREADY_INITIALIZED',
      });
    }
  });

  it('reports nothing before init, and refuses shares and admission with ERR_NOT_INITIALIZED', async () => {
    const { seal } = await bed();
    expect(seal.status()).toEqual({
      initialized: false,
      sealed: true,
      t: 0,
      n: 0,
      progress: 0,
      nonce: '',
    });
    expect(seal.phase()).toBe('sealed');
    await expect(seal.submitShare(Buffer.alloc(SHARE_LENGTH))).rejects.toMatchObject({
      code: 'ERR_NOT_INITIALIZED',
    });
    expect(() => seal.requireUnsealed()).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_INITIALIZED' }),
    );
    expect(() => seal.keyring()).toThrow(expect.objectContaining({ code: 'ERR_NOT_INITIALIZED' }));
  });

  it('a manager that did not see the init finds it when a share arrives', async () => {
    const { seal, another } = await bed();
    const late = await another();
    const [share] = await seal.initialize(1, 1);
    expect(late.isInitialized()).toBe(false);
    expect((await late.submitShare(share as Buffer)).sealed).toBe(false);
  });

  it('counts distinct shares under one nonce, refuses repeats and wrong lengths, and resets', async () => {
    const { seal } = await bed();
    const shares = await seal.initialize(5, 3);
    const [a, b, c] = shares as [Buffer, Buffer, Buffer];
    await expect(seal.submitShare(a.subarray(1))).rejects.toMatchObject(
      invalid(
        `an unseal key is ${SHARE_LENGTH} bytes (hex or base64); this one is ${SHARE_LENGTH - 1}`,
      ),
    );
    expect(seal.status().progress).toBe(0);
    const first = await seal.submitShare(a);
    expect(first).toMatchObject({ progress: 1, sealed: true });
    expect(first.nonce).toMatch(/^[0-9a-f-]{36}$/);
    const repeated = 'this unseal key (or another with the same share index) was already provided';
    await expect(seal.submitShare(a)).rejects.toMatchObject(invalid(repeated));
    // Different bytes, same share index (the last byte): a repeat all the same.
    const sameIndex = Buffer.from(b);
    sameIndex[SHARE_LENGTH - 1] = a[SHARE_LENGTH - 1] as number;
    await expect(seal.submitShare(sameIndex)).rejects.toMatchObject(invalid(repeated));
    const second = await seal.submitShare(b);
    expect(second).toMatchObject({ progress: 2, nonce: first.nonce });

    seal.resetProgress();
    expect(seal.status()).toMatchObject({ progress: 0, nonce: '', sealed: true });
    await seal.submitShare(b);
    expect(seal.status().nonce).not.toBe(first.nonce);
    await seal.submitShare(c);
    const done = await seal.submitShare(a);
    expect(done).toMatchObject({ sealed: false, progress: 0, nonce: '' });
    expect(seal.isUnsealed()).toBe(true);
    // Unsealed: a share is not taken (no progress, no error), the status comes back.
    expect(await seal.submitShare(shares[3] as Buffer)).toMatchObject({
      sealed: false,
      progress: 0,
    });
  });

  it('a wrong combination fails the unseal, resets progress and holds no keys', async () => {
    const { seal } = await bed();
    const [a, b] = (await seal.initialize(3, 2)) as [Buffer, Buffer];
    const bent = Buffer.from(b);
    bent[0] = (bent[0] as number) ^ 0xff;
    await seal.submitShare(a);
    await expect(seal.submitShare(bent)).rejects.toMatchObject({ code: 'ERR_UNSEAL_FAILED' });
    expect(seal.status()).toMatchObject({ sealed: true, progress: 0, nonce: '' });
    expect(seal.phase()).toBe('sealed');
    expect(() => seal.keyring()).toThrow(expect.objectContaining({ code: 'ERR_SEALED' }));
  });
});
