import { malformedBackups } from '@custos/test-support/transit-backups';
import { describe, expect, it } from 'vitest';
import type { CustosError } from '../errors/index.js';
import { LocalKms } from './local-kms.js';
import { decodeBackup } from './transit-backup.js';

function sourceKms() {
  const kms = new LocalKms();
  for (const [name, type] of [
    ['aes', 'aes256-gcm96'],
    ['ed', 'ed25519'],
  ] as const) {
    kms.createKey(name, { type, exportable: true, allowPlaintextBackup: true });
    kms.rotate(name);
  }
  return kms;
}

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return { code: (err as CustosError).code, message: (err as Error).message };
  }
  return undefined;
};

describe('transit backups: one schema, every field checked', () => {
  const source = sourceKms();
  const cases = malformedBackups(source.backup('aes'), source.backup('ed'));

  it.each(cases.map((c) => [c.case, c] as const))(
    'LocalKms.restore refuses %s, naming the field, and keeps nothing',
    (_, c) => {
      const kms = new LocalKms();
      kms.createKey('bystander');
      const before = kms.readKey('bystander');
      const error = refusal(() => kms.restore(c.blob as string));
      expect(error?.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error?.message.startsWith(c.error)).toBe(true);
      expect(kms.listKeys()).toEqual(['bystander']);
      expect(kms.readKey('bystander')).toEqual(before);
    },
  );

  it('never shows key material in a refusal', () => {
    const blob = source.backup('aes');
    const material = decodeBackup(blob).versions.flatMap((v) => [v.key, v.hmac_key]);
    for (const c of cases) {
      const message = refusal(() => decodeBackup(c.blob))?.message ?? '';
      for (const secret of material) expect(message).not.toContain(secret as string);
    }
  });

  it('refuses a restore under a name key creation would refuse, before reading the backup', () => {
    const kms = new LocalKms();
    for (const name of ['', 'evil/1', '../../sys/policy/x', '-lead', 'a'.repeat(129)]) {
      expect(refusal(() => kms.restore(source.backup('aes'), { name }))).toEqual({
        code: 'ERR_INVALID_ARGUMENT',
        message:
          'key names are 1-128 characters of A-Z a-z 0-9 . _ - and start with a letter or digit',
      });
    }
    expect(kms.listKeys()).toEqual([]);
  });

  it('accepts what backup writes, for every key type, trimmed keys and revoked ones (the KMS file)', () => {
    const kms = new LocalKms();
    for (const type of [
      'aes256-gcm96',
      'chacha20-poly1305',
      'ed25519',
      'ecdsa-p256',
      'hmac',
    ] as const)
      kms.createKey(type, { type, exportable: true, allowPlaintextBackup: true });
    kms.createKey('trimmed', {
      derived: true,
      convergentEncryption: true,
      exportable: true,
      allowPlaintextBackup: true,
    });
    for (let i = 0; i < 3; i++) kms.rotate('trimmed');
    kms.configure('trimmed', { minDecryptionVersion: 3, minEncryptionVersion: 4 });
    kms.trim('trimmed', 3);
    const copy = new LocalKms();
    for (const name of kms.listKeys()) copy.restore(kms.backup(name));
    for (const name of kms.listKeys()) expect(copy.readKey(name)).toEqual(kms.readKey(name));
    expect(Object.keys(copy.readKey('trimmed').keys as object)).toEqual(['3', '4']);
    const ct = kms.encrypt('trimmed', 'moved', { context: 'c' }).ciphertext;
    expect(copy.decrypt('trimmed', ct, { context: 'c' }).toString()).toBe('moved');
  });
});
