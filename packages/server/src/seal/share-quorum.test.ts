import { describe, expect, it } from 'vitest';
import { SHARE_LENGTH } from './root-key.js';
import { ShareQuorum } from './share-quorum.js';

/** A share of the right length whose last byte (its index) is `index`. */
const share = (index: number, fill = index) => {
  const bytes = Buffer.alloc(SHARE_LENGTH, fill);
  bytes[SHARE_LENGTH - 1] = index;
  return bytes;
};

// Shares towards a threshold, bound to one operation's nonce (rekey, root generation).
describe('a share quorum', () => {
  it('hands over the shares once the threshold is met, then starts empty', () => {
    const quorum = new ShareQuorum(2, 'rekey');
    expect(quorum.add(share(1), quorum.nonce)).toBeUndefined();
    expect(quorum.progress).toBe(1);
    const given = quorum.add(share(2), quorum.nonce);
    expect(given?.map((s) => s.at(-1))).toEqual([1, 2]);
    expect(quorum.progress).toBe(0);
  });

  it('refuses a wrong or missing nonce, naming the operation, and counts nothing', () => {
    const quorum = new ShareQuorum(2, 'root generation');
    for (const nonce of ['not-the-nonce', undefined, 7, { toString: () => quorum.nonce }])
      expect(() => quorum.add(share(1), nonce)).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_REQUEST',
          message: `incorrect nonce supplied; nonce for this root generation operation is ${quorum.nonce}`,
        }),
      );
    expect(quorum.progress).toBe(0);
  });

  it('refuses a share of another length, naming both lengths', () => {
    const quorum = new ShareQuorum(2, 'rekey');
    for (const length of [SHARE_LENGTH - 1, SHARE_LENGTH + 1, 0])
      expect(() => quorum.add(Buffer.alloc(length, 1), quorum.nonce)).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_REQUEST',
          message: `a key share is ${SHARE_LENGTH} bytes (hex or base64); this one is ${length}`,
        }),
      );
    expect(quorum.progress).toBe(0);
  });

  it('refuses a share given twice, by its bytes or by its index', () => {
    const quorum = new ShareQuorum(3, 'rekey verification');
    quorum.add(share(4), quorum.nonce);
    const twice = {
      code: 'ERR_INVALID_REQUEST',
      message: 'given key has already been provided during this rekey verification operation',
    };
    expect(() => quorum.add(share(4), quorum.nonce)).toThrow(expect.objectContaining(twice));
    // Other bytes, same index: the same share point, refused.
    expect(() => quorum.add(share(4, 9), quorum.nonce)).toThrow(expect.objectContaining(twice));
    expect(quorum.progress).toBe(1);
  });

  it('keeps a copy of each share, and forgets them on reset', () => {
    const quorum = new ShareQuorum(2, 'rekey');
    const first = share(1);
    quorum.add(first, quorum.nonce);
    first.fill(0);
    quorum.reset();
    expect(quorum.progress).toBe(0);
    quorum.add(share(1), quorum.nonce);
    const given = quorum.add(share(2), quorum.nonce);
    expect(given?.[0]?.equals(share(1))).toBe(true);
  });
});
