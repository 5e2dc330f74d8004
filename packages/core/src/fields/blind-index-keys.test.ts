/**
 * Blind indexes have a key of their own (issue #18, item 2): rotating an encryption key never
 * changes an index, rotating the blind-index key is deliberate and lookups cover both versions
 * until the backfill is done, and indexes written before (derived from the encryption key) keep
 * matching while `legacyBlindIndexKeyName` names that key.
 */
import { describe, expect, it } from 'vitest';
import { hmacSha256, Keyring } from '../crypto/index.js';
import { blindIndexVersion } from './blind-index.js';
import { createFieldCipher } from './field-cipher.js';
import { createKeyringKms } from './field-kms.js';

const email = { table: 'users', column: 'email', normalize: true } as const;

function keyringWith(...names: string[]) {
  const keyring = new Keyring();
  for (const name of names) keyring.createKey(name);
  return keyring;
}

/** The index custos wrote before blind-index keys: HMAC under a key derived from `default`. */
function legacyIndex(keyring: Keyring, value: string, version: number, tenant?: string) {
  const purpose = `blind-index/hmac/${JSON.stringify(['users', 'email', tenant ?? null])}`;
  const { key } = keyring.deriveKey('default', purpose, { version });
  const message = Buffer.concat([Buffer.of(1), Buffer.from(value)]);
  return `v${version}.${hmacSha256(key, message).subarray(0, 8).toString('base64url')}`;
}

describe('blind-index keys', () => {
  it('an encryption-key rotation never changes a blind index (keyring mode)', () => {
    const keyring = keyringWith('default', 'blind-index');
    const fc = createFieldCipher({ keyring });
    const before = fc.blindIndex('jane@example.com', email);
    const tenantBefore = fc.blindIndex('jane@example.com', { ...email, tenantId: 't1' });
    keyring.rotate('default');
    keyring.rotate('default');
    expect(fc.blindIndex('jane@example.com', email)).toBe(before);
    expect(fc.blindIndex('jane@example.com', { ...email, tenantId: 't1' })).toBe(tenantBefore);
    expect(fc.blindIndexCandidates('jane@example.com', email)).toEqual([before]);
  });

  it('an encryption-key rotation never changes a blind index (KMS mode: KEK and keyring keys)', async () => {
    const keyring = keyringWith('kek', 'default', 'blind-index');
    const fc = createFieldCipher({ kms: createKeyringKms(keyring, { keyName: 'kek' }), keyring });
    const before = await fc.blindIndex('jane@example.com', email);
    keyring.rotate('kek');
    keyring.rotate('default');
    expect(await fc.blindIndex('jane@example.com', email)).toBe(before);
    expect(await fc.blindIndexCandidates('jane@example.com', email)).toEqual([before]);
  });

  it('are never derived from the encryption key: the same material elsewhere gives other indexes', () => {
    const material = Buffer.alloc(32, 7);
    const keyring = new Keyring();
    keyring.createKey('default', { material });
    keyring.createKey('blind-index');
    const index = createFieldCipher({ keyring }).blindIndex('jane@example.com', email);
    expect(index.slice(1)).not.toBe(legacyIndex(keyring, 'jane@example.com', 1).slice(1));
  });

  it('refuse an encryption or deterministic key as the blind-index key', () => {
    const keyring = keyringWith('default', 'blind-index');
    for (const blindIndexKeyName of ['default', 'deterministic']) {
      expect(() => createFieldCipher({ keyring, blindIndexKeyName })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringContaining('blind indexes need a key of their own'),
        }),
      );
    }
    expect(() =>
      createFieldCipher({
        kms: createKeyringKms(keyring),
        keyring,
        blindIndexKeyName: 'deterministic',
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => createFieldCipher({ keyring, legacyBlindIndexKeyName: 'blind-index' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('legacyBlindIndexKeyName'),
      }),
    );
  });

  it('without a blind-index key: encryption works, an index is refused with the way out', () => {
    const keyring = keyringWith('default');
    const fc = createFieldCipher({ keyring });
    expect(fc.decrypt(fc.encrypt('x', email), email)).toBe('x');
    for (const lookup of [
      () => fc.blindIndex('x', email),
      () => fc.blindIndexCandidates('x', email),
    ]) {
      expect(lookup).toThrow(
        expect.objectContaining({
          code: 'ERR_KEY_NOT_FOUND',
          message: expect.stringMatching(
            /custos keyring add .*--name blind-index.*legacyBlindIndexKeyName.*custos reencrypt --blind-index/,
          ),
        }),
      );
    }
    expect(fc.currentKeys().blindIndex).toBeUndefined();
  });

  it('rotate deliberately: new writes under the new version, lookups match both until the old one is retired', () => {
    const keyring = keyringWith('default', 'blind-index');
    const fc = createFieldCipher({ keyring });
    const old = fc.blindIndex('jane@example.com', email);
    expect(fc.currentKeys().blindIndex).toEqual({
      keyId: keyring.info('blind-index').id,
      keyVersion: 1,
    });
    keyring.rotate('blind-index');
    const fresh = fc.blindIndex('jane@example.com', email);
    expect([blindIndexVersion(old), blindIndexVersion(fresh)]).toEqual([1, 2]);
    expect(fc.blindIndexCandidates('jane@example.com', email)).toEqual([fresh, old]);
    expect(fc.currentKeys().blindIndex?.keyVersion).toBe(2);
    keyring.setState('blind-index', 1, 'disabled');
    expect(fc.blindIndexCandidates('jane@example.com', email)).toEqual([fresh]);
  });

  it('legacy indexes (derived from the encryption key) keep matching while legacyBlindIndexKeyName names it', async () => {
    const keyring = keyringWith('default', 'blind-index');
    keyring.rotate('default'); // the application had rotated before upgrading
    const stored = [1, 2].map((v) => legacyIndex(keyring, 'jane@example.com', v));
    const storedTenant = legacyIndex(keyring, 'jane@example.com', 2, 't1');
    const fc = createFieldCipher({ keyring, legacyBlindIndexKeyName: 'default' });
    const current = fc.blindIndex('jane@example.com', email);
    expect(blindIndexVersion(current)).toBe(1);
    expect(fc.blindIndexCandidates(' Jane@Example.com', email)).toEqual([
      current,
      stored[1],
      stored[0],
    ]);
    expect(fc.blindIndexCandidates('jane@example.com', { ...email, tenantId: 't1' })).toContain(
      storedTenant,
    );
    const kmsFc = createFieldCipher({
      kms: createKeyringKms(keyring),
      keyring,
      legacyBlindIndexKeyName: 'default',
    });
    expect(await kmsFc.blindIndexCandidates('jane@example.com', email)).toEqual(
      fc.blindIndexCandidates('jane@example.com', email),
    );
    // Without it, only blind-index key versions: the legacy rows are rewritten by then.
    expect(createFieldCipher({ keyring }).blindIndexCandidates('jane@example.com', email)).toEqual([
      current,
    ]);
    expect(() =>
      createFieldCipher({ keyring, legacyBlindIndexKeyName: 'gone' }).blindIndexCandidates(
        'x',
        email,
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_KEY_NOT_FOUND' }));
  });
});
