import { describe, expect, it } from 'vitest';
import {
  combineRootKey,
  createRootKey,
  decryptKeyring,
  encryptKeyring,
  SHARE_LENGTH,
} from './root-key.js';

const UNSEAL_FAILED = {
  code: 'ERR_UNSEAL_FAILED',
  message:
    'the unseal keys do not reproduce the root key (wrong keys, or keys from another server); unseal progress was reset',
};

describe('root key shares', () => {
  it('any threshold of distinct shares reproduces the key; fewer or mixed shares do not', async () => {
    const { rootKey, keyShares } = await createRootKey(5, 3);
    expect(keyShares.every((s) => s.length === SHARE_LENGTH)).toBe(true);
    for (const pick of [
      [0, 1, 2],
      [4, 2, 0],
      [1, 3, 4],
    ]) {
      expect(
        (
          await combineRootKey(
            pick.map((i) => keyShares[i] as Buffer),
            3,
          )
        ).equals(rootKey),
      ).toBe(true);
    }
    await expect(combineRootKey(keyShares.slice(0, 2), 3)).rejects.toMatchObject(UNSEAL_FAILED);
    const other = await createRootKey(5, 3);
    const mixed = [keyShares[0], keyShares[1], other.keyShares[2]] as Buffer[];
    await expect(combineRootKey(mixed, 3)).rejects.toMatchObject(UNSEAL_FAILED);
  });

  it('a single share (1 of 1) is the key itself, and a changed byte is detected', async () => {
    const { rootKey, keyShares } = await createRootKey(1, 1);
    expect((await combineRootKey(keyShares, 1)).equals(rootKey)).toBe(true);
    const bent = Buffer.from(keyShares[0] as Buffer);
    bent[3] = (bent[3] as number) ^ 1;
    await expect(combineRootKey([bent], 1)).rejects.toMatchObject(UNSEAL_FAILED);
    // Its last byte, the share index, is 0: any other index is not the share of a 1 of 1.
    const indexed = Buffer.from(keyShares[0] as Buffer);
    indexed[indexed.length - 1] = 1;
    await expect(combineRootKey([indexed], 1)).rejects.toMatchObject(UNSEAL_FAILED);
  });

  it('the keyring sealed under the root key opens only with it', async () => {
    const { rootKey } = await createRootKey(1, 1);
    const blob = encryptKeyring(rootKey, '{"keyring":true}');
    expect(decryptKeyring(rootKey, blob)).toBe('{"keyring":true}');
    expect(() => decryptKeyring(Buffer.alloc(32), blob)).toThrow(
      expect.objectContaining(UNSEAL_FAILED),
    );
  });
});
