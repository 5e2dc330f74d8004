/**
 * The material of the key types beyond the first five, in core: restores refuse material that is
 * not the type's (modulus size, curve, key length, a public key of another pair), imports unwrap
 * Vault's BYOK format and check the key the same way, and LocalKms runs every type.
 */
import {
  constants,
  createCipheriv,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalKms } from './index.js';
import { importedKeyVersion, unwrapImportedKey } from './key-import.js';
import { decodeBackup } from './transit-backup.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit arbitrary backup JSON
type BackupJson = any;
const decode = (blob: string): BackupJson =>
  JSON.parse(Buffer.from(blob, 'base64').toString('utf8'));
const encode = (json: BackupJson) => Buffer.from(JSON.stringify(json)).toString('base64');
const pkcs8 = (pair: { privateKey: import('node:crypto').KeyObject }) =>
  pair.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');

describe('key material of the new types', () => {
  const kms = new LocalKms();
  const flags = { exportable: true, allowPlaintextBackup: true } as const;
  kms.createKey('rsa', { ...flags, type: 'rsa-2048' });
  kms.createKey('p384', { ...flags, type: 'ecdsa-p384' });
  kms.createKey('aes128', { ...flags, type: 'aes128-gcm96' });
  kms.createKey('aes256', flags);

  const refused = (blob: string, change: (json: BackupJson) => void) => {
    const json = decode(blob);
    change(json);
    try {
      decodeBackup(encode(json));
    } catch (err) {
      return (err as Error).message;
    }
    return 'accepted';
  };

  it('a restore refuses material that is not the type’s, naming the field and never the key', () => {
    const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 });
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherRsa = kms.backup('rsa');
    kms.createKey('rsa-other', { ...flags, type: 'rsa-2048' });
    const other = decode(kms.backup('rsa-other'));
    const cases: [string, string, (json: BackupJson) => void, string][] = [
      [
        'a 3072-bit key in an rsa-2048 key',
        otherRsa,
        (j) => {
          j.versions[0].private_key = pkcs8(rsa3072);
        },
        'backup: versions[0].private_key: is a 3072-bit RSA key, not 2048-bit (type rsa-2048)',
      ],
      [
        'a P-256 key in an ecdsa-p384 key',
        kms.backup('p384'),
        (j) => {
          j.versions[0].private_key = pkcs8(p256);
        },
        'backup: versions[0].private_key: is an ECDSA key on another curve than P-384 (type ecdsa-p384)',
      ],
      [
        'the public key of another pair',
        otherRsa,
        (j) => {
          j.versions[0].public_key = other.versions[0].public_key;
        },
        'backup: versions[0].public_key: does not belong to private_key',
      ],
      [
        'a 32-byte key in an aes128-gcm96 key',
        kms.backup('aes128'),
        (j) => {
          j.versions[0].key = randomBytes(32).toString('base64');
        },
        'backup: versions[0].key: must hold 16 bytes',
      ],
      [
        'a 16-byte key in an aes256-gcm96 key',
        kms.backup('aes256'),
        (j) => {
          j.versions[0].key = randomBytes(16).toString('base64');
        },
        'backup: versions[0].key: must hold 32 bytes',
      ],
      [
        'allow_rotation on a key that was not imported',
        kms.backup('aes256'),
        (j) => {
          j.policy.allow_rotation = true;
        },
        'backup: policy.allow_rotation: belongs to imported keys only',
      ],
    ];
    for (const [label, blob, change, message] of cases) {
      const error = refused(blob, change);
      expect(error, label).toBe(message);
      expect(error, label).not.toContain(pkcs8(rsa3072).slice(0, 40));
    }
    // Unchanged, each backup passes.
    for (const name of ['rsa', 'p384', 'aes128', 'aes256'])
      expect(decodeBackup(kms.backup(name)).policy.name).toBe(name);
  });

  it('LocalKms encrypts, decrypts, signs and verifies with every new type, across a rotation', () => {
    kms.createKey('rsa-sign', { type: 'rsa-3072' });
    kms.createKey('p521', { type: 'ecdsa-p521' });
    for (const name of ['rsa', 'aes128']) {
      const before = kms.encrypt(name, 'before rotation').ciphertext;
      kms.rotate(name);
      const after = kms.encrypt(name, 'after rotation').ciphertext;
      expect(after).toMatch(/^vault:v2:/);
      expect(kms.decrypt(name, before).toString()).toBe('before rotation');
      expect(kms.decrypt(name, after).toString()).toBe('after rotation');
    }
    for (const name of ['rsa-sign', 'p521', 'p384']) {
      for (const options of [{}, { marshalingAlgorithm: 'jws' as const }]) {
        const { signature } = kms.sign(name, 'data', options);
        expect(kms.verify(name, 'data', signature, options)).toBe(true);
        expect(kms.verify(name, 'other', signature, options)).toBe(false);
      }
    }
    const pkcs1 = kms.sign('rsa-sign', 'data', { signatureAlgorithm: 'pkcs1v15' }).signature;
    // PKCS#1 v1.5 is deterministic; PSS with a random salt is not.
    expect(kms.sign('rsa-sign', 'data', { signatureAlgorithm: 'pkcs1v15' }).signature).toBe(pkcs1);
    expect(kms.verify('rsa-sign', 'data', pkcs1)).toBe(false);
  });

  it('unwraps Vault’s BYOK format (RSA-OAEP + AES-KWP) with each hash_function, and checks the key', () => {
    const wrapping = generateKeyPairSync('rsa', { modulusLength: 4096 });
    const wrap = (target: Buffer, oaepHash: string) => {
      const ephemeral = randomBytes(32);
      const kwp = createCipheriv('id-aes256-wrap-pad', ephemeral, Buffer.from('a65959a6', 'hex'));
      return Buffer.concat([
        publicEncrypt(
          { key: wrapping.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
          ephemeral,
        ),
        kwp.update(target),
        kwp.final(),
      ]);
    };
    const target = randomBytes(20); // KWP pads lengths that are not a multiple of 8
    for (const [name, hash] of [
      ['SHA1', 'sha1'],
      ['sha224', 'sha224'],
      ['SHA256', 'sha256'],
      ['Sha384', 'sha384'],
      ['SHA512', 'sha512'],
    ] as const) {
      expect(unwrapImportedKey(wrapping.privateKey, wrap(target, hash), name)).toEqual(target);
    }
    expect(() => unwrapImportedKey(wrapping.privateKey, wrap(target, 'sha1'))).toThrow(
      /does not unwrap/,
    );
    // An ephemeral key that is not 32 bytes is refused like any bad wrapping.
    const short = Buffer.concat([
      publicEncrypt(
        { key: wrapping.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
        randomBytes(16),
      ),
      randomBytes(24),
    ]);
    expect(() => unwrapImportedKey(wrapping.privateKey, short)).toThrow(/does not unwrap/);

    expect(importedKeyVersion('hmac', randomBytes(32), 1, new Date()).key).toBeUndefined();
    expect(() => importedKeyVersion('hmac', randomBytes(16), 1, new Date())).toThrow(
      'an imported hmac key must be 32 bytes',
    );
    expect(() => importedKeyVersion('aes128-gcm96', randomBytes(32), 1, new Date())).toThrow(
      'an imported aes128-gcm96 key must be 16 bytes (a raw key)',
    );
    const ed = generateKeyPairSync('ed25519');
    const version = importedKeyVersion(
      'ed25519',
      ed.privateKey.export({ type: 'pkcs8', format: 'der' }),
      3,
      new Date(),
    );
    expect(version).toMatchObject({
      version: 3,
      public_key: Buffer.from(
        ed.publicKey.export({ format: 'jwk' }).x as string,
        'base64url',
      ).toString('base64'),
    });
  });
});
