import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  apiKeyChecksum,
  generateApiKey,
  hasValidApiKeyChecksum,
  parseApiKey,
} from './index.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('API key format', () => {
  it('checksums with CRC32 in base62 (known answers from zlib.crc32 in Python)', () => {
    expect(apiKeyChecksum('acme_0123456789ab_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef')).toBe('2jO3Q4');
    expect(apiKeyChecksum('x_000000000000_00000000000000000000000000000000')).toBe('3VnwYg');
  });

  it('generates <prefix>_<key id>_<random><checksum> that parses back', () => {
    const { key: secret, keyId } = generateApiKey('acme_live');
    const key = secret.reveal();
    expect(key).toMatch(/^acme_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/);
    expect(parseApiKey(key)).toEqual({ prefix: 'acme_live', keyId });
    expect(hasValidApiKeyChecksum(key)).toBe(true);
    expect(generateApiKey('acme_live').key.reveal()).not.toBe(key);
    expect(() => generateApiKey('Acme')).toThrow(/lowercase/);
  });

  it('detects every single-character substitution, wherever it is', () => {
    const key = generateApiKey('acme').key.reveal();
    let detected = 0;
    for (let i = 0; i < key.length; i++) {
      if (key[i] === '_') continue;
      for (const c of BASE62) {
        if (c === key[i]) continue;
        expect(hasValidApiKeyChecksum(key.slice(0, i) + c + key.slice(i + 1))).toBe(false);
        detected++;
      }
    }
    expect(detected).toBe((key.length - 2) * (BASE62.length - 1));
  });

  it('tells malformed keys from checksum mismatches', () => {
    const key = generateApiKey('acme').key.reveal();
    const swapped = `${key.slice(0, -2)}${key.at(-1)}${key.at(-2)}`;
    if (swapped !== key)
      expect(() => parseApiKey(swapped)).toThrow(
        expect.objectContaining({ code: 'ERR_API_KEY_CHECKSUM' }),
      );
    for (const bad of [
      '',
      'acme',
      key.slice(0, -1),
      `${key}x`,
      key.replace('acme_', 'ACME_'),
      key.replace(/_/g, '-'),
      `${'a'.repeat(40)}${key}`,
    ]) {
      expect(() => parseApiKey(bad), bad).toThrow(
        expect.objectContaining({ code: 'ERR_API_KEY_MALFORMED' }),
      );
    }
  });

  it('lets a scanner find real keys in text', () => {
    const key = generateApiKey('acme').key.reveal();
    const fake = `acme_${'A'.repeat(12)}_${'B'.repeat(38)}`;
    const text = `config: token=${key}\nexample: ${fake}\n`;
    const found = [...text.matchAll(new RegExp(API_KEY_PATTERN, 'g'))].map((m) => m[0]);
    expect(found).toEqual([key, fake]);
    expect(found.filter(hasValidApiKeyChecksum)).toEqual([key]);
  });
});
