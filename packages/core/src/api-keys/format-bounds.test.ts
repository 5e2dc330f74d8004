import { describe, expect, it } from 'vitest';
import {
  API_KEY_PREFIX_PATTERN,
  apiKeyChecksum,
  generateApiKey,
  hasValidApiKeyChecksum,
  parseApiKey,
} from './index.js';

const KEY_ID = 'A1b2C3d4E5f6';
const RANDOM = 'Zz09'.repeat(8);

/** A key with a valid checksum over any parts, well-formed or not. */
function keyOf(prefix: string, keyId = KEY_ID, random = RANDOM): string {
  const body = `${prefix}_${keyId}_${random}`;
  return body + apiKeyChecksum(body);
}

const malformed = {
  code: 'ERR_API_KEY_MALFORMED',
  message: 'the API key is not of the form <prefix>_<key id>_<random><checksum>',
};

describe('API key bounds', () => {
  it('parses a key with the longest prefix (32 characters, 84 in all) and refuses one more', () => {
    const longest = keyOf('a'.repeat(32));
    expect(longest).toHaveLength(84);
    expect(parseApiKey(longest)).toEqual({ prefix: 'a'.repeat(32), keyId: KEY_ID });
    const words = keyOf(`${'ab_'.repeat(10)}cd`);
    expect(parseApiKey(words).prefix).toBe(`${'ab_'.repeat(10)}cd`);

    const tooLong = keyOf('a'.repeat(33));
    expect(tooLong).toHaveLength(85);
    expect(() => parseApiKey(tooLong)).toThrow(expect.objectContaining(malformed));
    expect(hasValidApiKeyChecksum(tooLong)).toBe(false);
  });

  it('generates keys for prefixes of up to 32 characters and refuses longer ones', () => {
    const { key, keyId } = generateApiKey('p'.repeat(32));
    expect(parseApiKey(key.reveal())).toEqual({ prefix: 'p'.repeat(32), keyId });
    expect(() => generateApiKey('p'.repeat(33))).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message:
          'a prefix is 1-32 lowercase letters and digits, words joined by "_" (e.g. acme_live)',
      }),
    );
  });

  it('needs a key id of exactly 12 base62 characters', () => {
    for (const keyId of ['A1b2C3d4E5f', 'A1b2C3d4E5f6g', 'A1b2C3d4E5f-', '']) {
      expect(() => parseApiKey(keyOf('acme', keyId)), keyId).toThrow(
        expect.objectContaining(malformed),
      );
    }
    expect(() => parseApiKey(`acme${RANDOM}${apiKeyChecksum(`acme${RANDOM}`)}`)).toThrow(
      expect.objectContaining(malformed),
    );
  });

  it('matches a whole prefix, not a part of it', () => {
    for (const prefix of ['acme', 'acme_live', 'a1_b2', 'x']) {
      expect(API_KEY_PREFIX_PATTERN.test(prefix), prefix).toBe(true);
    }
    for (const prefix of ['acme-live', 'acme_', '_acme', 'acme__live', '1acme', 'acme!', 'Acme']) {
      expect(API_KEY_PREFIX_PATTERN.test(prefix), prefix).toBe(false);
      expect(() => generateApiKey(prefix), prefix).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    // A checksum over the whole text does not make a bad prefix acceptable.
    for (const prefix of ['acme-live', 'acme.x', 'acme_', 'acme__live']) {
      expect(() => parseApiKey(keyOf(prefix)), prefix).toThrow(expect.objectContaining(malformed));
    }
  });

  it('refuses a value that is not a string as malformed, not with a TypeError', () => {
    for (const value of [undefined, null, 42, ['acme'], { length: 1 }]) {
      expect(() => parseApiKey(value as unknown as string), String(value)).toThrow(
        expect.objectContaining(malformed),
      );
    }
  });

  it('refuses a prefix that is not a string, even one that reads as a valid prefix', () => {
    for (const value of [['acme'], { toString: () => 'acme' }, 7]) {
      expect(() => generateApiKey(value as unknown as string)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('says which check failed: form or checksum', () => {
    const key = keyOf('acme');
    const mistyped = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(() => parseApiKey(mistyped)).toThrow(
      expect.objectContaining({
        code: 'ERR_API_KEY_CHECKSUM',
        message: 'the API key checksum does not match (mistyped, truncated, or not a real key)',
      }),
    );
    expect(() => parseApiKey('acme')).toThrow(expect.objectContaining(malformed));
  });
});
