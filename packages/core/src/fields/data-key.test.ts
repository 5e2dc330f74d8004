import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { DATA_KEY, importDataKey } from './data-key.js';

describe('importDataKey', () => {
  it('leaves no copy of the key bytes on the heap, and still encrypts and decrypts', () => {
    const bytes = randomBytes(32);
    const kept = Buffer.from(bytes);
    const key = importDataKey(bytes, 'vault:v1:wrapped');
    expect(bytes.equals(Buffer.alloc(32))).toBe(true);
    const versions = [...Keyring.internals.records(key.keyring)].flatMap((k) => [
      ...k.versions.values(),
    ]);
    expect(versions).toHaveLength(1);
    expect(versions[0]?.material).toBeUndefined();
    const sealed = key.keyring.encryptToString(DATA_KEY, 'phi', { aad: { row: '1' } });
    expect(key.keyring.decrypt(sealed, { aad: { row: '1' } }).toString()).toBe('phi');
    // The same bytes imported again open it: the wiped copy was not the key in use.
    expect(
      importDataKey(kept, 'vault:v1:wrapped')
        .keyring.decrypt(sealed, { aad: { row: '1' } })
        .toString(),
    ).toBe('phi');
  });

  it('refuses anything but 32 bytes', () => {
    expect(() => importDataKey(randomBytes(16), 'w')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
