import * as nodeCrypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseEnvelope } from './envelope.js';
import { Keyring } from './keyring.js';

// Key ids come from randomBytes(8); a queue lets the test make the generator repeat itself.
const queuedIds: Buffer[] = [];
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    randomBytes: vi.fn((size: number) =>
      size === 8 && queuedIds.length > 0 ? (queuedIds.shift() as Buffer) : actual.randomBytes(size),
    ),
  };
});

describe('Keyring random key ids', () => {
  afterEach(() => {
    queuedIds.length = 0;
  });

  it('draws again when a random id is already used by another key', () => {
    const taken = Buffer.from('00112233445566ff', 'hex');
    const fresh = Buffer.from('0a0b0c0d0e0f0102', 'hex');
    const keyring = new Keyring();
    queuedIds.push(taken);
    expect(keyring.createKey('first').id).toBe('00112233445566ff');
    queuedIds.push(Buffer.from(taken), fresh);
    expect(keyring.createKey('second').id).toBe('0a0b0c0d0e0f0102');
    expect(vi.mocked(nodeCrypto.randomBytes)).toHaveBeenCalledWith(8);
    expect(parseEnvelope(keyring.encrypt('second', 'x')).keyId).toBe('0a0b0c0d0e0f0102');
    expect(keyring.decrypt(keyring.encrypt('first', 'y')).toString()).toBe('y');
  });
});
