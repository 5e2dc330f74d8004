import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { DEFAULT_FINGERPRINT_KEY, fingerprintSecret } from './fingerprint.js';

describe('fingerprintSecret', () => {
  it('is HMAC-SHA256 under the documented key, in hex, first 32 characters', () => {
    // The key docs/scanning.md documents: baselines made anywhere must agree.
    expect(DEFAULT_FINGERPRINT_KEY).toBe('custos/scan/fingerprint/v1');
    const secret = `${randomString(20)}é`;
    const expected = createHmac('sha256', 'custos/scan/fingerprint/v1')
      .update(Buffer.from(secret, 'utf8'))
      .digest('hex')
      .slice(0, 32);
    expect(fingerprintSecret(secret)).toBe(expected);
  });
});
