/**
 * Shamir shares with an integrity check: any threshold of distinct shares rebuilds the secret;
 * too few, duplicated, mixed, corrupted or forged shares are each reported by a typed error,
 * naming the share, never combined into a wrong secret and never echoing the secret.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { combineShares, splitSecret } from './shamir.js';
import { formatShare, parseShare } from './share-text.js';

const inputs = (lines: readonly string[]) =>
  lines.map((text, i) => ({ text, source: `share #${i + 1}` }));

describe('splitSecret / combineShares', () => {
  it('every 3 of 5 shares rebuild the secret, in any order', async () => {
    const secret = randomBytes(32);
    const lines = await splitSecret(secret, { threshold: 3, shares: 5 });
    expect(lines).toHaveLength(5);
    expect(new Set(lines.map((l) => parseShare(l, 'x').setId)).size).toBe(1);
    for (const pick of [
      [0, 1, 2],
      [4, 2, 0],
      [1, 3, 4],
      [0, 1, 2, 3, 4],
    ]) {
      const got = await combineShares(inputs(pick.map((i) => lines[i] as string)));
      expect(got.equals(secret)).toBe(true);
    }
  });

  it('too few shares: ERR_SHARES_TOO_FEW naming the threshold', async () => {
    const lines = await splitSecret(randomBytes(32), { threshold: 3, shares: 5 });
    await expect(combineShares(inputs(lines.slice(0, 2)))).rejects.toMatchObject({
      code: 'ERR_SHARES_TOO_FEW',
      message: expect.stringMatching(/needs 3 of its 5 shares; 2 given/),
    });
    await expect(combineShares([])).rejects.toMatchObject({ code: 'ERR_SHARES_TOO_FEW' });
  });

  it('a share given twice is reported, not counted twice', async () => {
    const lines = await splitSecret(randomBytes(32), { threshold: 3, shares: 5 });
    const twice = [lines[0], lines[1], lines[1]] as string[];
    await expect(combineShares(inputs(twice))).rejects.toMatchObject({
      code: 'ERR_SHARE_DUPLICATE',
      message: expect.stringMatching(/share #3 is share 2 again \(already given as share #2\)/),
    });
  });

  it('shares of two splits: ERR_SHARES_MIXED naming the stray share and both sets', async () => {
    const secret = randomBytes(32);
    const a = await splitSecret(secret, { threshold: 3, shares: 5 });
    const b = await splitSecret(secret, { threshold: 3, shares: 5 });
    const mixed = [a[0], a[1], b[2]] as string[];
    const err = await combineShares(inputs(mixed)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SHARES_MIXED' });
    const setB = parseShare(b[2] as string, 'x').setId;
    expect((err as Error).message).toContain(`share #3 (set ${setB})`);
  });

  it('a mistyped or cut share fails its checksum, naming it', async () => {
    const lines = await splitSecret(randomBytes(32), { threshold: 2, shares: 3 });
    const line = lines[1] as string;
    const at = line.length - 20;
    const typo = `${line.slice(0, at)}${line[at] === 'A' ? 'B' : 'A'}${line.slice(at + 1)}`;
    await expect(combineShares(inputs([lines[0] as string, typo]))).rejects.toMatchObject({
      code: 'ERR_SHARE_MALFORMED',
      message: 'share #2 fails its checksum: a character was changed or mistyped',
    });
    await expect(
      combineShares(inputs([lines[0] as string, line.slice(0, 40)])),
    ).rejects.toMatchObject({ code: 'ERR_SHARE_MALFORMED' });
    await expect(combineShares(inputs(['hello', line]))).rejects.toMatchObject({
      code: 'ERR_SHARE_MALFORMED',
      message: expect.stringMatching(/share #1 is not a custos share/),
    });
  });

  it('a forged share with a valid checksum never yields a wrong secret; with one spare share it is named', async () => {
    const canary = Buffer.from(`CANARY-shamir-${randomBytes(6).toString('hex')}`);
    const lines = await splitSecret(canary, { threshold: 3, shares: 5 });
    const victim = parseShare(lines[2] as string, 'x');
    const bent = Buffer.from(victim.share);
    bent[0] = (bent[0] as number) ^ 1;
    const forged = formatShare({ ...victim, share: bent });
    const atThreshold = await combineShares(
      inputs([lines[0] as string, lines[1] as string, forged]),
    ).then(
      () => expect.fail('combined a forged share set'),
      (e: unknown) => e as Error,
    );
    expect(atThreshold).toMatchObject({ code: 'ERR_SHARES_WRONG' });
    expect(atThreshold.message).toMatch(/add another share/);
    const spare = await combineShares(
      inputs([lines[0] as string, lines[1] as string, forged, lines[4] as string]),
    ).then(
      () => expect.fail('combined a forged share set'),
      (e: unknown) => e as Error,
    );
    expect(spare).toMatchObject({ code: 'ERR_SHARES_WRONG' });
    expect(spare.message).toMatch(/share #3 is wrong; the other shares agree/);
    for (const err of [atThreshold, spare]) {
      expect(`${err.message}${err.stack}`).not.toContain(canary.toString());
    }
  });

  it('a share whose threshold was edited (checksum recomputed) disagrees with its set', async () => {
    const lines = await splitSecret(randomBytes(32), { threshold: 3, shares: 5 });
    const edited = formatShare({ ...parseShare(lines[1] as string, 'x'), threshold: 2 });
    await expect(
      combineShares(inputs([lines[0] as string, edited, lines[2] as string])),
    ).rejects.toMatchObject({
      code: 'ERR_SHARES_MIXED',
      message: expect.stringMatching(/share #2/),
    });
  });

  it('refuses impossible parameters', async () => {
    for (const options of [
      { threshold: 1, shares: 3 },
      { threshold: 4, shares: 3 },
      { threshold: 2, shares: 256 },
    ]) {
      await expect(splitSecret(randomBytes(8), options)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
    await expect(splitSecret(Buffer.alloc(0), { threshold: 2, shares: 2 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});
