import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hkdfSha256, hmacSha256, Keyring } from '../crypto/index.js';
import { blindIndexVersion } from './blind-index.js';
import { createFieldCipher } from './field-cipher.js';

function setup(material?: Buffer) {
  const keyring = new Keyring();
  keyring.createKey('default', material ? { material } : {});
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  keyring.createKey('blind-index', material ? { material } : {});
  return { keyring, fc: createFieldCipher({ keyring }) };
}

const email = { table: 'users', column: 'email' } as const;

describe('deterministic columns', () => {
  it('give equal ciphertexts for equal values across rows, different ones across columns and tenants', () => {
    const { fc } = setup();
    const det = { ...email, deterministic: true };
    const a = fc.encrypt('jane@example.com', { ...det, rowId: 1 });
    const b = fc.encrypt('jane@example.com', { ...det, rowId: 2 });
    expect(a).toBe(b);
    expect(fc.encrypt('jane@example.com', { ...det, column: 'backup_email' })).not.toBe(a);
    expect(fc.encrypt('jane@example.com', { ...det, tenantId: 't1' })).not.toBe(
      fc.encrypt('jane@example.com', { ...det, tenantId: 't2' }),
    );
    expect(fc.encrypt('john@example.com', det)).not.toBe(a);
    expect(fc.decrypt(a, det)).toBe('jane@example.com');
    expect(() => fc.decrypt(a, { ...det, tenantId: 't1' })).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
  });

  it('refuses to read a deterministic value as randomised and the reverse', () => {
    const { fc } = setup();
    const det = fc.encrypt('x', { ...email, deterministic: true });
    const rnd = fc.encrypt('x', email);
    expect(() => fc.decrypt(det, email)).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
    expect(() => fc.decrypt(rnd, { ...email, deterministic: true })).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
  });

  it('offers lookup candidates under every readable version during a rotation', () => {
    const { keyring, fc } = setup();
    const det = { ...email, deterministic: true };
    const stored = fc.encrypt('jane@example.com', det);
    keyring.rotate('deterministic');
    const candidates = fc.deterministicCandidates('jane@example.com', det);
    expect(candidates).toHaveLength(2);
    expect(candidates[0]).toBe(fc.encrypt('jane@example.com', det));
    expect(candidates[1]).toBe(stored);
    keyring.setMinDecryptionVersion('deterministic', 2);
    expect(fc.deterministicCandidates('jane@example.com', det)).toHaveLength(1);
  });

  it('explains how to add the deterministic key when it is missing', () => {
    const keyring = new Keyring();
    keyring.createKey('default');
    const fc = createFieldCipher({ keyring });
    expect(() => fc.encrypt('x', { ...email, deterministic: true })).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_NOT_FOUND',
        message: expect.stringMatching(/custos keyring add .*aes-256-gcm-siv/),
      }),
    );
  });
});

describe('blind indexes', () => {
  it('are HMAC-SHA256 under a per-column HKDF key, truncated (known answer)', () => {
    const material = Buffer.alloc(32, 3);
    const { fc } = setup(material);
    const index = fc.blindIndex('jane@example.com', email);
    const purpose = 'blind-index/hmac/["users","email",null]';
    const columnKey = hkdfSha256(material, `custos/keyring/v1/derived-key/${purpose}`);
    const message = Buffer.concat([Buffer.of(1), Buffer.from('jane@example.com')]);
    const expected = hmacSha256(columnKey, message).subarray(0, 8).toString('base64url');
    expect(index).toBe(`b1.${expected}`);
  });

  it('are deterministic, per column and per tenant, and never the plain SHA-256 of the value', () => {
    const { fc } = setup();
    const value = 'jane@example.com';
    const index = fc.blindIndex(value, email);
    expect(fc.blindIndex(value, email)).toBe(index);
    expect(fc.blindIndex(value, { ...email, column: 'backup_email' })).not.toBe(index);
    expect(fc.blindIndex(value, { ...email, table: 'staff' })).not.toBe(index);
    expect(fc.blindIndex(value, { ...email, tenantId: 'a' })).not.toBe(
      fc.blindIndex(value, { ...email, tenantId: 'b' }),
    );
    const sha = createHash('sha256').update(value).digest();
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      expect(index).not.toContain(sha.toString(encoding).slice(0, 8));
    }
    expect(fc.blindIndex(42, email)).not.toBe(fc.blindIndex('42', email));
  });

  it('keep the requested number of bits, short by default', () => {
    const { fc } = setup();
    expect(fc.blindIndex('x', email)).toMatch(/^b1\.[A-Za-z0-9_-]{11}$/);
    expect(fc.blindIndex('x', { ...email, bits: 256 })).toMatch(/^b1\.[A-Za-z0-9_-]{43}$/);
    // 12 bits: two bytes with the last four bits cleared, so 16 values cover every index.
    const small = new Set(
      Array.from({ length: 3000 }, (_, i) => fc.blindIndex(`v${i}`, { ...email, bits: 12 })),
    );
    expect(small.size).toBeLessThanOrEqual(4096);
    for (const index of small) {
      const bytes = Buffer.from(index.slice(3), 'base64url');
      expect(bytes.length).toBe(2);
      expect((bytes[1] as number) & 0x0f).toBe(0);
    }
    for (const bits of [0, 257, 1.5]) {
      expect(() => fc.blindIndex('x', { ...email, bits })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('normalise strings when asked (built in or custom)', () => {
    const { fc } = setup();
    const n = { ...email, normalize: true };
    expect(fc.blindIndex('  Jane@Example.COM ', n)).toBe(fc.blindIndex('jane@example.com', n));
    expect(fc.blindIndex('ﬁle', n)).toBe(fc.blindIndex('file', n));
    expect(fc.blindIndex('Jane@Example.com', email)).not.toBe(
      fc.blindIndex('jane@example.com', email),
    );
    const digits = { ...email, normalize: (s: string) => s.replace(/\D/g, '') };
    expect(fc.blindIndex('078-05-1120', digits)).toBe(fc.blindIndex('078 05 1120', digits));
  });

  it('use Argon2id for low-entropy values, the same synchronously and asynchronously', async () => {
    const { keyring, fc } = setup();
    const slow = { ...email, column: 'dob', slow: { memoryKiB: 1024, iterations: 1 } };
    const index = fc.blindIndex('1990-04-01', slow);
    expect(index).toMatch(/^b1\./);
    expect(index).not.toBe(fc.blindIndex('1990-04-01', { ...email, column: 'dob' }));
    expect(fc.blindIndex('1990-04-01', slow)).toBe(index);
    const kmsFc = createFieldCipher({
      kms: (await import('./field-kms.js')).createKeyringKms(keyring),
      keyring,
    });
    expect(await kmsFc.blindIndex('1990-04-01', slow)).toBe(index);
  });

  it('are versioned with the blind-index key: candidates cover its rotation, blindIndexVersion reads the version', () => {
    const { keyring, fc } = setup();
    const stored = fc.blindIndex('jane', email);
    expect(blindIndexVersion(stored)).toBe(1);
    keyring.rotate('blind-index');
    const fresh = fc.blindIndex('jane', email);
    expect(blindIndexVersion(fresh)).toBe(2);
    expect(fresh).not.toBe(stored);
    expect(fc.blindIndexCandidates('jane', email)).toEqual([fresh, stored]);
    expect(fc.blindIndex('jane', { ...email, version: 1 })).toBe(stored);
    keyring.setState('blind-index', 1, 'disabled');
    expect(fc.blindIndexCandidates('jane', email)).toEqual([fresh]);
    expect(blindIndexVersion('custos:abc')).toBeUndefined();
    expect(blindIndexVersion('v0.abc')).toBeUndefined();
  });
});
