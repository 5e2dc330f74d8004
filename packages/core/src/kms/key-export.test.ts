import { describe, expect, it } from 'vitest';
import type { CustosError } from '../errors/index.js';
import { exportKeyMaterial } from './key-export.js';
import { LocalKms } from './local-kms.js';
import { createKeyPolicy, createKeyVersion, type TransitKeyPolicy } from './transit-key.js';

const now = new Date('2030-01-01T00:00:00Z');

function keyWithFloor(type: 'aes256-gcm96' | 'ed25519', floor: number) {
  const policy: TransitKeyPolicy = {
    ...createKeyPolicy('k', { type, exportable: true }, now),
    latest_version: 3,
    min_decryption_version: floor,
  };
  const versions = [1, 2, 3].map((v) => createKeyVersion(type, v, now));
  return { policy, versions };
}

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as CustosError).code, message: (err as Error).message };
  }
  return undefined;
};

describe('exportKeyMaterial: only versions that still decrypt leave', () => {
  it.each(['encryption-key', 'hmac-key'] as const)(
    'a full %s export starts at min_decryption_version',
    (type) => {
      const { policy, versions } = keyWithFloor('aes256-gcm96', 2);
      const keys = exportKeyMaterial(policy, versions, type, undefined, now.getTime());
      expect(Object.keys(keys)).toEqual(['2', '3']);
      const material = type === 'encryption-key' ? versions[1]?.key : versions[1]?.hmac_key;
      expect(keys['2']).toBe(material);
    },
  );

  it.each(['signing-key', 'public-key'] as const)(
    'a %s of a version below the floor is refused, by number or v<N>',
    (type) => {
      const { policy, versions } = keyWithFloor('ed25519', 3);
      for (const version of ['1', '2', 'v2'])
        expect(refusal(() => exportKeyMaterial(policy, versions, type, version, 0))).toEqual({
          code: 'ERR_INVALID_ARGUMENT',
          message: 'version for export is below minimum decryption version',
        });
      expect(Object.keys(exportKeyMaterial(policy, versions, type, 'latest', 0))).toEqual(['3']);
      expect(Object.keys(exportKeyMaterial(policy, versions, type, undefined, 0))).toEqual(['3']);
    },
  );

  it('names a malformed or missing version without echoing it', () => {
    const { policy, versions } = keyWithFloor('aes256-gcm96', 1);
    expect(
      refusal(() => exportKeyMaterial(policy, versions, 'encryption-key', 'canary-7', 0)),
    ).toEqual({ code: 'ERR_INVALID_ARGUMENT', message: 'invalid key version' });
    expect(refusal(() => exportKeyMaterial(policy, versions, 'encryption-key', '9', 0))).toEqual({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'version does not exist or cannot be found',
    });
  });
});

describe('LocalKms below min_decryption_version', () => {
  it('describes only versions that decrypt, and refuses HMACs and signatures with older ones', () => {
    const kms = new LocalKms();
    kms.createKey('sig', { type: 'ed25519' });
    kms.rotate('sig');
    kms.configure('sig', { minDecryptionVersion: 2 });
    expect(Object.keys(kms.readKey('sig').keys as object)).toEqual(['2']);
    expect(refusal(() => kms.sign('sig', 'x', { keyVersion: 1 }))?.code).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(refusal(() => kms.hmac('sig', 'x', { keyVersion: 1 }))?.code).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    // A backup stays whole: it is for restoring the key as it is.
    kms.configure('sig', { exportable: true, allowPlaintextBackup: true });
    const backup = JSON.parse(Buffer.from(kms.backup('sig'), 'base64').toString()) as {
      versions: unknown[];
    };
    expect(backup.versions).toHaveLength(2);
  });
});
