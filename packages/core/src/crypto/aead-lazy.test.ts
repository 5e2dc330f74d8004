import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAeadKey, open, seal } from './aead.js';

// A file of its own: its process has loaded nothing else that could bring in @noble/ciphers.
describe('AES-GCM-SIV is loaded by its first use', () => {
  it('allocates the AES tables when a process first seals with it, not when it loads custos', () => {
    const key = createAeadKey('aes-256-gcm-siv', randomBytes(32));
    const aad = Buffer.from('aad');
    // Node's own algorithms do not need @noble/ciphers.
    const gcm = createAeadKey('aes-256-gcm', randomBytes(32));
    const nonce = randomBytes(12);
    expect(open(gcm, nonce, seal(gcm, nonce, 'x', aad), aad).toString()).toBe('x');
    const before = process.memoryUsage().arrayBuffers;
    const sealed = seal(key, new Uint8Array(0), 'hello', aad);
    const grown = process.memoryUsage().arrayBuffers - before;
    // @noble/ciphers builds 1.25 MiB of typed arrays as its AES module loads.
    expect(grown).toBeGreaterThan(1024 * 1024);
    expect(open(key, new Uint8Array(0), sealed, aad).toString()).toBe('hello');
    // Deterministic, as equality search needs.
    expect(seal(key, new Uint8Array(0), 'hello', aad).equals(sealed)).toBe(true);
  });
});
