import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.js';
import type { AeadAlgorithm } from './aead.js';
import { type AssociatedData, encodeAssociatedData } from './associated-data.js';
import { Keyring } from './keyring.js';
import { loadKeyring, serializeKeyring } from './keyring-json.js';

const ALGORITHMS: AeadAlgorithm[] = ['aes-256-gcm', 'chacha20-poly1305', 'aes-256-gcm-siv'];
const TAMPER_CODES = ['ERR_DECRYPTION_FAILED', 'ERR_MALFORMED_CIPHERTEXT'];

function keyringWith(algorithm: AeadAlgorithm, rotations = 0): Keyring {
  const keyring = new Keyring();
  keyring.createKey('k', { algorithm });
  for (let i = 0; i < rotations; i++) keyring.rotate('k');
  return keyring;
}

/** Decrypting must throw a tamper error: never return data, never throw anything untyped. */
function expectRejected(attempt: () => unknown): void {
  let thrown: unknown;
  try {
    attempt();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'tampered ciphertext was accepted').toBeInstanceOf(CustosError);
  expect(TAMPER_CODES).toContain((thrown as CustosError).code);
}

const aadArbitrary: fc.Arbitrary<AssociatedData | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 40 }),
  fc.string({ maxLength: 40 }),
  fc.record({
    tenant: fc.string({ minLength: 1, maxLength: 12 }),
    table: fc.constantFrom('patients', 'visits'),
    column: fc.constantFrom('ssn', 'name', 'dob'),
    row: fc.nat(),
  }),
);

describe.each(ALGORITHMS)('%s envelopes', (algorithm) => {
  // Primary v3 (0b11): flipping a low bit of the version lands on v2 or v1, real versions
  // with other key material, as well as on versions that do not exist. Built inside each test,
  // not while the file is collected: code run then is a static mutant to Stryker, measured by
  // the module's whole suite instead of the tests that reach it.
  const primaryV3 = () => keyringWith(algorithm, 2);
  const aad = { tenant: 't1', table: 'patients', column: 'ssn', row: 7 };

  it.each([0, 1, 32, 100])('rejects every single-bit flip of a %i-byte binary envelope', (n) => {
    const keyring = primaryV3();
    const envelope = keyring.encrypt('k', Buffer.alloc(n, 0x61), { aad });
    expect(keyring.decrypt(envelope, { aad }).length).toBe(n);
    for (let i = 0; i < envelope.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(envelope);
        copy[i] = (copy[i] as number) ^ (1 << bit);
        expectRejected(() => keyring.decrypt(copy, { aad }));
      }
    }
  });

  it('rejects every single-bit flip of every character of a text envelope', () => {
    const keyring = primaryV3();
    const text = keyring.encryptToString('k', 'jane.doe@example.com', { aad });
    for (let i = 0; i < text.length; i++) {
      for (let bit = 0; bit < 7; bit++) {
        const flipped = String.fromCharCode(text.charCodeAt(i) ^ (1 << bit));
        expectRejected(() =>
          keyring.decrypt(text.slice(0, i) + flipped + text.slice(i + 1), { aad }),
        );
      }
    }
  });

  it('rejects every truncation and an appended byte', () => {
    const keyring = primaryV3();
    const envelope = keyring.encrypt('k', 'value', { aad });
    for (let length = 0; length < envelope.length; length++) {
      expectRejected(() => keyring.decrypt(envelope.subarray(0, length), { aad }));
    }
    expectRejected(() => keyring.decrypt(Buffer.concat([envelope, Buffer.of(0)]), { aad }));
    const text = keyring.encryptToString('k', 'value', { aad });
    for (let length = 0; length < text.length; length++) {
      expectRejected(() => keyring.decrypt(text.slice(0, length), { aad }));
    }
  });

  it('rejects changed, missing or extra associated data and a wrong key context', () => {
    const keyring = primaryV3();
    const envelope = keyring.encrypt('k', 'value', { aad, keyContext: 'tenant-1' });
    expect(keyring.decrypt(envelope, { aad, keyContext: 'tenant-1' }).toString()).toBe('value');
    expectRejected(() => keyring.decrypt(envelope, { keyContext: 'tenant-1' }));
    expectRejected(() =>
      keyring.decrypt(envelope, { aad: { ...aad, row: 8 }, keyContext: 'tenant-1' }),
    );
    expectRejected(() =>
      keyring.decrypt(envelope, { aad: { ...aad, extra: 'x' }, keyContext: 'tenant-1' }),
    );
    expectRejected(() =>
      keyring.decrypt(envelope, { aad: { ...aad, tenant: 't2' }, keyContext: 'tenant-1' }),
    );
    expectRejected(() => keyring.decrypt(envelope, { aad, keyContext: 'tenant-2' }));
    expectRejected(() => keyring.decrypt(envelope, { aad }));
  });

  it('property: random plaintext and associated data round-trip, and every bit flip or AAD change is rejected', () => {
    const keyring = primaryV3();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        aadArbitrary,
        aadArbitrary,
        fc.boolean(),
        (plaintext, ad, otherAd, asText) => {
          const options = ad === undefined ? undefined : { aad: ad };
          const envelope = asText
            ? keyring.encryptToString('k', plaintext, options)
            : keyring.encrypt('k', plaintext, options);
          expect(Buffer.compare(keyring.decrypt(envelope, options), Buffer.from(plaintext))).toBe(
            0,
          );

          for (const tampered of everyBitFlip(envelope)) {
            expectRejected(() => keyring.decrypt(tampered, options));
          }

          if (!encodeAssociatedData(ad).equals(encodeAssociatedData(otherAd))) {
            expectRejected(() =>
              keyring.decrypt(envelope, otherAd === undefined ? undefined : { aad: otherAd }),
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('envelopes naming versions that policy refuses', () => {
  // v5 primary, v4 decrypt-only, v3 disabled, v2 destroyed, v1 below the minimum: a flip of
  // the version byte lands on each. Authentication comes first, so every flip is a tamper
  // error, never ERR_KEY_DISABLED.
  // Built inside each test, as above.
  const underPolicy = () => {
    const keyring = keyringWith('aes-256-gcm', 4);
    keyring.setState('k', 4, 'decrypt-only');
    keyring.setState('k', 3, 'disabled');
    keyring.setState('k', 2, 'destroyed');
    keyring.setMinDecryptionVersion('k', 2);
    return keyring;
  };

  it.each([5, 4, 3])('rejects every bit flip of an envelope under v%i', (version) => {
    const keyring = underPolicy();
    const writer = keyringAt(keyring, version);
    const envelope = writer.encrypt('k', 'value');
    expect(writer.decrypt(envelope).toString()).toBe('value');
    for (const tampered of everyBitFlip(envelope)) {
      expectRejected(() => keyring.decrypt(tampered));
    }
  });

  it('still refuses authentic envelopes under a disabled version with ERR_KEY_DISABLED', () => {
    const keyring = underPolicy();
    const envelope = keyringAt(keyring, 3).encrypt('k', 'value');
    expect(() => keyring.decrypt(envelope)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_DISABLED' }),
    );
  });
});

/** A copy of `keyring` whose primary for key "k" is `version`, re-enabled: it writes under it. */
function keyringAt(keyring: Keyring, version: number): Keyring {
  const copy = loadKeyring(serializeKeyring(keyring));
  if (copy.info('k').primaryVersion !== version) {
    copy.setState('k', version, 'enabled');
    copy.setPrimary('k', version);
  }
  return copy;
}

/** Every copy of `envelope` with exactly one bit flipped (7 bits per character of text). */
function* everyBitFlip(envelope: Buffer | string): Generator<Buffer | string> {
  if (typeof envelope === 'string') {
    for (let i = 0; i < envelope.length; i++) {
      for (let bit = 0; bit < 7; bit++) {
        const flipped = String.fromCharCode(envelope.charCodeAt(i) ^ (1 << bit));
        yield envelope.slice(0, i) + flipped + envelope.slice(i + 1);
      }
    }
    return;
  }
  for (let i = 0; i < envelope.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const copy = Buffer.from(envelope);
      copy[i] = (copy[i] as number) ^ (1 << bit);
      yield copy;
    }
  }
}

describe('envelopes across keys and keyrings', () => {
  it('a ciphertext from another keyring or another key is rejected, not misread', () => {
    const a = keyringWith('aes-256-gcm');
    const b = keyringWith('aes-256-gcm');
    b.createKey('other');
    expectRejected(() => b.decrypt(a.encrypt('k', 'x')));
    expectRejected(() => a.decrypt(b.encrypt('other', 'x')));
  });

  it('garbage of every length is rejected with a typed error', () => {
    const keyring = keyringWith('aes-256-gcm');
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.string({ maxLength: 120 }),
        (bytes, text) => {
          expectRejected(() => keyring.decrypt(bytes));
          expectRejected(() => keyring.decrypt(text));
          expectRejected(() => keyring.decrypt(`custos:${text}`));
        },
      ),
      { numRuns: 500 },
    );
  });
});
