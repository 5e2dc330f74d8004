import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checksummedToken, withBadChecksum } from '../../test/generate.js';
import { crc32Base62, hasValidPrefixedCrc32 } from './checksums.js';

describe('CRC32 in base62', () => {
  it('encodes the CRC32 of the input in six base62 digits, most significant first', () => {
    const value = crc32(Buffer.from('abc')) >>> 0; // 0x352441c2 = 891568578
    expect(value).toBe(891568578);
    expect(crc32Base62('abc')).toBe('0yKviM'); // 891568578 in base62 (0-9A-Za-z), computed independently
    expect(crc32Base62('abc')).toHaveLength(6);
    expect(crc32Base62('')).toBe('000000'); // CRC32 of nothing is 0
  });

  it('accepts generated tokens and refuses any changed character, length or prefix', () => {
    for (const prefix of ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'npm_']) {
      const token = checksummedToken(prefix);
      expect(hasValidPrefixedCrc32(token, prefix)).toBe(true);
      expect(hasValidPrefixedCrc32(withBadChecksum(token), prefix)).toBe(false);
      const flipped = `${token.slice(0, 10)}${token[10] === 'a' ? 'b' : 'a'}${token.slice(11)}`;
      expect(hasValidPrefixedCrc32(flipped, prefix)).toBe(false);
      expect(hasValidPrefixedCrc32(`${token}0`, prefix)).toBe(false);
      expect(hasValidPrefixedCrc32(token, 'xyz_')).toBe(false);
    }
  });
});
