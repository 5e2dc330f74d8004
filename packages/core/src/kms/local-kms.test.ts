import { createDecipheriv, createPublicKey, verify } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CustosError } from '../errors/index.js';
import { LocalKms } from './local-kms.js';
import { decodeBackup } from './transit-backup.js';
import { VERSION_TOO_OLD_MESSAGE } from './transit-crypto.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as CustosError).code, message: (err as Error).message };
  }
  return undefined;
};

function exportableKms(name: string, options: ConstructorParameters<typeof LocalKms>[0] = {}) {
  const kms = new LocalKms(options);
  kms.createKey(name, { exportable: true, allowPlaintextBackup: true });
  return kms;
}

describe('LocalKms encryption', () => {
  it("writes Vault's format: vault:v<N>: + base64(nonce ‖ ciphertext ‖ tag) under the version key", () => {
    const kms = exportableKms('k');
    const { ciphertext, keyVersion } = kms.encrypt('k', 'hello world', { associatedData: 'row-7' });
    expect(keyVersion).toBe(1);
    expect(ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/]+={0,2}$/);
    // Decrypt with bare node:crypto and the exported key: the layout is exactly Vault's.
    const key = Buffer.from(decodeBackup(kms.backup('k')).versions[0]?.key as string, 'base64');
    const bytes = Buffer.from(ciphertext.slice('vault:v1:'.length), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12), {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from('row-7'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = Buffer.concat([
      decipher.update(bytes.subarray(12, bytes.length - 16)),
      decipher.final(),
    ]);
    expect(plain.toString()).toBe('hello world');
  });

  it('round-trips every encryption type and refuses the wrong associated data', () => {
    const kms = new LocalKms();
    kms.createKey('aes');
    kms.createKey('chacha', { type: 'chacha20-poly1305' });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ minLength: 1, maxLength: 20 }),
        (data, ad) => {
          for (const name of ['aes', 'chacha']) {
            const { ciphertext } = kms.encrypt(name, data, { associatedData: ad });
            expect(
              kms.decrypt(name, ciphertext, { associatedData: ad }).equals(Buffer.from(data)),
            ).toBe(true);
            expect(code(() => kms.decrypt(name, ciphertext))).toMatchObject({
              code: 'ERR_DECRYPTION_FAILED',
              message: 'cipher: message authentication failed',
            });
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('derived keys need their context; convergent keys give equal ciphertexts for equal input only', () => {
    const kms = new LocalKms();
    kms.createKey('derived', { derived: true });
    kms.createKey('convergent', { derived: true, convergentEncryption: true });
    const { ciphertext } = kms.encrypt('derived', 'x', { context: 'tenant-1' });
    expect(kms.decrypt('derived', ciphertext, { context: 'tenant-1' }).toString()).toBe('x');
    expect(code(() => kms.decrypt('derived', ciphertext, { context: 'tenant-2' }))?.code).toBe(
      'ERR_DECRYPTION_FAILED',
    );
    expect(code(() => kms.encrypt('derived', 'x'))?.message).toMatch(
      /missing 'context' for key derivation/,
    );
    const a = kms.encrypt('convergent', 'same', { context: 'c' }).ciphertext;
    expect(kms.encrypt('convergent', 'same', { context: 'c' }).ciphertext).toBe(a);
    expect(kms.encrypt('convergent', 'other', { context: 'c' }).ciphertext).not.toBe(a);
    expect(kms.encrypt('convergent', 'same', { context: 'd' }).ciphertext).not.toBe(a);
    // Associated data feeds the nonce too: never one nonce for two different messages.
    const withAd = kms.encrypt('convergent', 'same', {
      context: 'c',
      associatedData: 'ad',
    }).ciphertext;
    expect(withAd.slice(9, 25)).not.toBe(a.slice(9, 25));
    expect(code(() => kms.createKey('bad', { convergentEncryption: true }))?.message).toMatch(
      /requires derivation/,
    );
  });

  it('rejects every single-byte change of a ciphertext with a typed error, never data', () => {
    const kms = new LocalKms();
    kms.createKey('k');
    kms.rotate('k');
    const { ciphertext } = kms.encrypt('k', 'secret value');
    const bytes = Buffer.from(ciphertext.slice('vault:v2:'.length), 'base64');
    // Every other value of every byte (nonce, ciphertext and tag): 255 × 40 decryptions.
    let tried = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let delta = 1; delta < 256; delta++) {
        const copy = Buffer.from(bytes);
        copy[i] = (copy[i] as number) ^ delta;
        const result = code(() => kms.decrypt('k', `vault:v2:${copy.toString('base64')}`));
        expect(result).toEqual({
          code: 'ERR_DECRYPTION_FAILED',
          message: 'cipher: message authentication failed',
        });
        tried++;
      }
    }
    expect(tried).toBe(bytes.length * 255);
    for (const bad of [
      'vault:v1',
      'vault:vX:abc',
      'nope:v1:abc',
      'vault:v2:@@@',
      'vault:v2:AAAA',
      'vault:v9:AAAA',
    ]) {
      expect(['ERR_MALFORMED_CIPHERTEXT', 'ERR_DECRYPTION_FAILED']).toContain(
        code(() => kms.decrypt('k', bad))?.code,
      );
    }
    expect(code(() => kms.decrypt('k', 'vault:v9:AAAA'))?.message).toBe(
      'invalid ciphertext: version is too new',
    );
    expect(code(() => kms.decrypt('k', 'nope'))?.message).toBe('invalid ciphertext: no prefix');
  });
});

describe('LocalKms rotation', () => {
  it('old ciphertexts decrypt after rotate; min_decryption_version refuses them; rewrap moves them; trim removes versions', () => {
    const kms = new LocalKms();
    kms.createKey('k');
    const v1 = kms.encrypt('k', 'one').ciphertext;
    expect(kms.rotate('k')).toBe(2);
    const v2 = kms.encrypt('k', 'two').ciphertext;
    expect(v2.startsWith('vault:v2:')).toBe(true);
    expect(kms.decrypt('k', v1).toString()).toBe('one');
    const rewrapped = kms.rewrap('k', v1);
    expect(rewrapped.keyVersion).toBe(2);
    expect(kms.decrypt('k', rewrapped.ciphertext).toString()).toBe('one');
    kms.configure('k', { minDecryptionVersion: 2 });
    expect(code(() => kms.decrypt('k', v1))).toEqual({
      code: 'ERR_KEY_DISABLED',
      message: VERSION_TOO_OLD_MESSAGE,
    });
    kms.configure('k', { minDecryptionVersion: 1 });
    expect(code(() => kms.trim('k', 2))?.message).toMatch(/higher than min_decryption_version/);
    kms.configure('k', { minDecryptionVersion: 2 });
    kms.trim('k', 2);
    expect(Object.keys(kms.readKey('k').keys as object)).toEqual(['2']);
    kms.trim('k', 2); // the same floor again changes nothing
    expect(code(() => kms.trim('k', 1))).toEqual({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'minimum available version cannot be decremented',
    });
    expect(kms.readKey('k').min_available_version).toBe(2);
    expect(code(() => kms.configure('k', { minDecryptionVersion: 1 }))?.message).toMatch(/trimmed/);
    expect(code(() => kms.decrypt('k', v1))?.code).toBe('ERR_KEY_DISABLED');
    expect(kms.decrypt('k', v2).toString()).toBe('two');
  });

  it('encrypts to an older version on request, within min_encryption_version', () => {
    const kms = new LocalKms();
    kms.createKey('k');
    kms.rotate('k');
    expect(kms.encrypt('k', 'x', { keyVersion: 1 }).keyVersion).toBe(1);
    kms.configure('k', { minEncryptionVersion: 2 });
    expect(code(() => kms.encrypt('k', 'x', { keyVersion: 1 }))?.message).toMatch(
      /less than the minimum encryption key version/,
    );
    expect(code(() => kms.encrypt('k', 'x', { keyVersion: 3 }))?.message).toMatch(
      /greater than the latest key version/,
    );
  });

  it('rotates after a number of encryptions (Vault only rotates by time)', () => {
    const kms = new LocalKms();
    kms.createKey('k', { rotateAfterEncryptions: 3 });
    const versions = Array.from({ length: 7 }, () => kms.encrypt('k', 'x').keyVersion);
    expect(versions).toEqual([1, 1, 1, 2, 2, 2, 3]);
    expect(kms.readKey('k').encryptions).toEqual({ '1': 3, '2': 3, '3': 1 });
  });

  it('never uses a version past rotate_after_encryptions: not in long runs, not through rewrap, data keys or an explicit key_version', () => {
    const kms = new LocalKms();
    kms.createKey('k', { rotateAfterEncryptions: 12 });
    const used = new Map<number, number>();
    const note = (version: number) => used.set(version, (used.get(version) ?? 0) + 1);
    const first = kms.encrypt('k', 'first');
    note(first.keyVersion);
    for (let i = 0; i < 1000; i++) {
      const op = i % 3;
      if (op === 0) note(kms.encrypt('k', `item ${i}`).keyVersion);
      else if (op === 1) note(kms.rewrap('k', first.ciphertext).keyVersion);
      else note(kms.generateDataKey('k').keyVersion);
    }
    const latest = kms.readKey('k').latest_version as number;
    expect(latest).toBe(Math.ceil(1001 / 12));
    for (let v = 1; v < latest; v++) expect(used.get(v)).toBe(12);
    expect(kms.readKey('k').encryptions).toEqual(
      Object.fromEntries([...used].map(([v, n]) => [String(v), n])),
    );
    expect(code(() => kms.encrypt('k', 'x', { keyVersion: 1 }))).toEqual({
      code: 'ERR_KEY_EXHAUSTED',
      message:
        'version 1 of key k reached its limit of 12 encryptions (rotate_after_encryptions); encrypt with a newer version',
    });
    expect(code(() => kms.rewrap('k', first.ciphertext, { keyVersion: 2 }))?.code).toBe(
      'ERR_KEY_EXHAUSTED',
    );
    // Lowering the limit below the latest version's count rotates it out on the next use.
    kms.configure('k', { rotateAfterEncryptions: 1 });
    expect(kms.encrypt('k', 'x').keyVersion).toBe(latest + 1);
    expect(kms.encrypt('k', 'x').keyVersion).toBe(latest + 2);
  });

  it('rotates by age with auto_rotate_period (at least 1h)', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const kms = new LocalKms({ now: () => now });
    kms.createKey('k', { autoRotatePeriodSeconds: 3600 });
    expect(kms.encrypt('k', 'x').keyVersion).toBe(1);
    now = new Date('2026-01-01T01:00:01Z');
    expect(kms.encrypt('k', 'x').keyVersion).toBe(2);
    expect(code(() => kms.configure('k', { autoRotatePeriodSeconds: 60 }))?.message).toMatch(
      /at least 1h/,
    );
  });
});

describe('LocalKms lifecycle', () => {
  it('follows the checked state machine', () => {
    const kms = new LocalKms();
    kms.createKey('k');
    kms.setState('k', 'rotating');
    kms.setState('k', 'active');
    kms.setState('k', 'inactive');
    expect(code(() => kms.setState('k', 'rotating'))?.code).toBe('ERR_INVALID_KEY_STATE');
    kms.setState('k', 'revoked');
    expect(code(() => kms.setState('k', 'active'))).toMatchObject({
      code: 'ERR_INVALID_KEY_STATE',
      message: /revoked to active/,
    });
    kms.setState('k', 'pending_deletion');
    // Revocation is final: a cancelled deletion goes back to revoked, never to inactive.
    expect(code(() => kms.setState('k', 'inactive'))).toEqual({
      code: 'ERR_INVALID_KEY_STATE',
      message:
        'a key cannot go from pending_deletion to inactive (allowed from pending_deletion: revoked); the key was revoked, and revocation is final: cancelling its deletion returns it to revoked',
    });
    kms.setState('k', 'revoked');
    expect(code(() => kms.setState('k', 'active'))?.code).toBe('ERR_INVALID_KEY_STATE');
    // A key never revoked comes back from a cancelled deletion as inactive.
    kms.createKey('other');
    kms.setState('other', 'pending_deletion');
    kms.setState('other', 'inactive');
    kms.setState('other', 'active');
    expect(kms.readKey('other').revoked_time).toBeNull();
  });

  it('inactive keys decrypt but do not encrypt; revoked keys stop both unless policy allows decryption', () => {
    const kms = new LocalKms();
    kms.createKey('k');
    kms.createKey('readable', { decryptAfterRevocation: true });
    const ct = kms.encrypt('k', 'x').ciphertext;
    const readable = kms.encrypt('readable', 'y').ciphertext;
    kms.setState('k', 'inactive');
    expect(code(() => kms.encrypt('k', 'y'))).toMatchObject({
      code: 'ERR_KEY_DISABLED',
      message: 'key k is inactive: it cannot encrypt',
    });
    expect(kms.decrypt('k', ct).toString()).toBe('x');
    kms.setState('k', 'revoked');
    expect(code(() => kms.decrypt('k', ct))?.message).toBe('key k is revoked: it cannot decrypt');
    kms.setState('readable', 'revoked');
    expect(kms.decrypt('readable', readable).toString()).toBe('y');
    kms.setState('readable', 'pending_deletion');
    expect(code(() => kms.decrypt('readable', readable))?.code).toBe('ERR_KEY_DISABLED');
  });

  it('expires at expires_at: no more encryption, decryption still allowed', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const kms = new LocalKms({ now: () => now });
    kms.createKey('k', { expiresAt: '2026-01-02T00:00:00Z' });
    const ct = kms.encrypt('k', 'x').ciphertext;
    now = new Date('2026-01-03T00:00:00Z');
    expect(kms.readKey('k').state).toBe('expired');
    expect(code(() => kms.encrypt('k', 'y'))?.message).toBe('key k is expired: it cannot encrypt');
    expect(kms.decrypt('k', ct).toString()).toBe('x');
  });

  it('an expired key only leaves to pending_deletion: no state change or expires_at change revives it', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const kms = new LocalKms({ now: () => now });
    kms.createKey('k', { expiresAt: '2026-01-02T00:00:00Z', autoRotatePeriodSeconds: 3600 });
    // Before expiry, expires_at may move.
    kms.configure('k', { expiresAt: '2026-01-03T00:00:00Z' });
    now = new Date('2026-01-04T00:00:00Z');
    expect(kms.readKey('k').state).toBe('expired');
    for (const state of ['active', 'rotating', 'inactive', 'revoked'] as const) {
      expect(code(() => kms.setState('k', state))).toEqual({
        code: 'ERR_INVALID_KEY_STATE',
        message: `a key cannot go from expired to ${state} (allowed from expired: pending_deletion)`,
      });
    }
    expect(code(() => kms.setState('k', 'expired'))?.message).toBe(
      'a key expires by its expires_at, not on request',
    );
    for (const expiresAt of ['2027-01-01T00:00:00Z', null]) {
      expect(code(() => kms.configure('k', { expiresAt }))).toEqual({
        code: 'ERR_INVALID_KEY_STATE',
        message:
          'key k expired at 2026-01-03T00:00:00Z: its expires_at cannot change (an expired key only leaves to pending_deletion)',
      });
    }
    kms.configure('k', { expiresAt: '2026-01-03T00:00:00.000Z' }); // the same time: no change
    expect(code(() => kms.encrypt('k', 'y'))?.message).toBe('key k is expired: it cannot encrypt');
    // Due by age, but an expired key is not rotated: nothing would use the new version.
    expect(kms.readKey('k').latest_version).toBe(1);
    kms.setState('k', 'pending_deletion');
    expect(kms.readKey('k').state).toBe('pending_deletion');
    kms.setState('k', 'inactive'); // deletion cancelled: still expired by the clock
    expect(kms.readKey('k').state).toBe('expired');
  });

  it('reports every use to the usage log with the version used, failures too, without data', () => {
    const usage: Record<string, unknown>[] = [];
    const kms = new LocalKms({ onUsage: (u) => usage.push({ ...u }) });
    kms.createKey('k');
    kms.createKey('signer', { type: 'ed25519' });
    const ct = kms.encrypt('k', 'canary-usage-log').ciphertext;
    kms.rotate('k');
    kms.decrypt('k', ct);
    kms.rewrap('k', ct);
    kms.generateDataKey('k');
    kms.verifyHmac('k', 'm', kms.hmac('k', 'm'));
    kms.verify('signer', 'm', kms.sign('signer', 'm').signature);
    const tampered = `${ct.slice(0, -4)}${ct.endsWith('AAA=') ? 'BAA=' : 'AAA='}`;
    expect(code(() => kms.decrypt('k', tampered))).toEqual({
      code: 'ERR_DECRYPTION_FAILED',
      message: 'cipher: message authentication failed',
    });
    expect(code(() => kms.encrypt('missing', 'canary-usage-log'))?.code).toBe('ERR_KEY_NOT_FOUND');
    kms.setState('k', 'revoked');
    expect(code(() => kms.generateDataKey('k'))?.code).toBe('ERR_KEY_DISABLED');
    expect(usage.map(({ time, ...rest }) => rest)).toEqual([
      { key: 'k', operation: 'encrypt', version: 1, success: true },
      { key: 'k', operation: 'decrypt', version: 1, success: true },
      { key: 'k', operation: 'rewrap', version: 2, success: true },
      { key: 'k', operation: 'datakey', version: 2, success: true },
      { key: 'k', operation: 'hmac', version: 2, success: true },
      { key: 'k', operation: 'verify-hmac', version: 2, success: true },
      { key: 'signer', operation: 'sign', version: 1, success: true },
      { key: 'signer', operation: 'verify', version: 1, success: true },
      { key: 'k', operation: 'decrypt', success: false },
      { key: 'missing', operation: 'encrypt', success: false },
      { key: 'k', operation: 'datakey', success: false },
    ]);
    expect(JSON.stringify(usage)).not.toContain('canary');
  });
});

describe('LocalKms HMAC, signatures and data keys', () => {
  it("HMACs and verifies with Vault's prefix", () => {
    const kms = new LocalKms();
    kms.createKey('mac', { type: 'hmac' });
    const mac = kms.hmac('mac', 'message', { algorithm: 'sha2-512' });
    expect(mac).toMatch(/^vault:v1:/);
    expect(Buffer.from(mac.slice(9), 'base64')).toHaveLength(64);
    expect(kms.verifyHmac('mac', 'message', mac, 'sha2-512')).toBe(true);
    expect(kms.verifyHmac('mac', 'messagE', mac, 'sha2-512')).toBe(false);
    expect(code(() => kms.hmac('mac', 'm', { algorithm: 'md5' }))?.message).toMatch(
      /unsupported algorithm/,
    );
  });

  it('signs with ed25519 and ecdsa-p256 (asn1 and jws); signatures verify with bare node:crypto', () => {
    const kms = new LocalKms();
    kms.createKey('ed', { type: 'ed25519' });
    kms.createKey('ec', { type: 'ecdsa-p256' });
    const ed = kms.sign('ed', 'payload');
    expect(kms.verify('ed', 'payload', ed.signature)).toBe(true);
    expect(kms.verify('ed', 'payloaD', ed.signature)).toBe(false);
    const edKey = createPublicKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        x: Buffer.from(
          (kms.readKey('ed').keys as Record<string, { public_key: string }>)['1']
            ?.public_key as string,
          'base64',
        ).toString('base64url'),
      },
      format: 'jwk',
    });
    expect(
      verify(null, Buffer.from('payload'), edKey, Buffer.from(ed.signature.slice(9), 'base64')),
    ).toBe(true);

    const pem = (kms.readKey('ec').keys as Record<string, { public_key: string }>)['1']
      ?.public_key as string;
    const der = kms.sign('ec', 'payload', { hashAlgorithm: 'sha2-384' });
    expect(
      verify('sha384', Buffer.from('payload'), pem, Buffer.from(der.signature.slice(9), 'base64')),
    ).toBe(true);
    const jws = kms.sign('ec', 'payload', { marshalingAlgorithm: 'jws' });
    expect(jws.signature).toMatch(/^vault:v1:[A-Za-z0-9_-]{86}$/);
    expect(
      verify(
        'sha256',
        Buffer.from('payload'),
        { key: pem, dsaEncoding: 'ieee-p1363' },
        Buffer.from(jws.signature.slice(9), 'base64url'),
      ),
    ).toBe(true);
    expect(kms.verify('ec', 'payload', jws.signature, { marshalingAlgorithm: 'jws' })).toBe(true);
    expect(kms.verify('ec', 'payload', der.signature, { hashAlgorithm: 'sha2-384' })).toBe(true);
    expect(kms.verify('ec', 'payload', der.signature)).toBe(false); // signed over SHA-384
    // jws means base64url for every key type, ed25519 included (as in Vault).
    const edJws = kms.sign('ed', 'payload', { marshalingAlgorithm: 'jws' });
    expect(edJws.signature).toMatch(/^vault:v1:[A-Za-z0-9_-]{86}$/);
    expect(Buffer.from(edJws.signature.slice(9), 'base64url')).toEqual(
      Buffer.from(ed.signature.slice(9), 'base64'), // ed25519 signatures are deterministic
    );
    expect(kms.verify('ed', 'payload', edJws.signature, { marshalingAlgorithm: 'jws' })).toBe(true);
    for (const marshalingAlgorithm of ['pem', ''] as const) {
      for (const name of ['ec', 'ed']) {
        expect(
          code(() => kms.sign(name, 'x', { marshalingAlgorithm: marshalingAlgorithm as 'asn1' })),
        ).toEqual({
          code: 'ERR_INVALID_ARGUMENT',
          message: 'invalid marshaling type; use asn1 or jws',
        });
      }
    }
    expect(code(() => kms.encrypt('ed', 'x'))?.message).toMatch(/does not support encryption/);
    expect(code(() => kms.sign('ec', 'x', { hashAlgorithm: 'sha3-256' }))?.message).toMatch(
      /unsupported hash/,
    );
  });

  it('generates data keys of 128, 256 and 512 bits wrapped by the key', () => {
    const kms = new LocalKms();
    kms.createKey('k');
    for (const bits of [128, 256, 512] as const) {
      const dk = kms.generateDataKey('k', { bits });
      expect(dk.plaintext).toHaveLength(bits / 8);
      expect(kms.decrypt('k', dk.ciphertext).equals(dk.plaintext)).toBe(true);
    }
    expect(code(() => kms.generateDataKey('k', { bits: 64 as 128 }))?.message).toMatch(
      /must be 128, 256 or 512/,
    );
  });
});

describe('LocalKms persistence and backup', () => {
  it('saves to a 0600 file, reopens, and moves keys by backup without re-encrypting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-kms-'));
    try {
      const file = join(dir, 'kms.json');
      const kms = await LocalKms.open(file);
      kms.createKey('k', { exportable: true, allowPlaintextBackup: true });
      kms.rotate('k');
      const ct = kms.encrypt('k', 'kept').ciphertext;
      await kms.save();
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const reopened = await LocalKms.open(file);
      expect(reopened.decrypt('k', ct).toString()).toBe('kept');
      const other = new LocalKms();
      other.restore(reopened.backup('k'), { name: 'moved' });
      expect(other.decrypt('moved', ct).toString()).toBe('kept');
      expect(code(() => other.restore(reopened.backup('k'), { name: 'moved' }))?.code).toBe(
        'ERR_KEY_EXISTS',
      );
      const locked = new LocalKms();
      locked.createKey('secret-key');
      expect(code(() => locked.backup('secret-key'))?.message).toMatch(
        /exportable and allow_plaintext_backup/,
      );
      expect(code(() => locked.configure('secret-key', { exportable: true }))).toBeUndefined();
      expect(code(() => locked.configure('secret-key', { exportable: false }))?.message).toMatch(
        /cannot be disabled/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('deletes a key only when deletion is allowed', () => {
    const kms = new LocalKms();
    kms.createKey('k');
    expect(code(() => kms.deleteKey('k'))?.message).toBe('deletion is not allowed for this key');
    kms.configure('k', { deletionAllowed: true });
    kms.deleteKey('k');
    expect(code(() => kms.encrypt('k', 'x'))).toEqual({
      code: 'ERR_KEY_NOT_FOUND',
      message: 'encryption key "k" not found',
    });
  });
});
