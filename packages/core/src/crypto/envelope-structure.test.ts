import { describe, expect, it } from 'vitest';
import { envelopeToText, isTextEnvelope, parseEnvelope } from './envelope.js';
import { Keyring } from './keyring.js';

function gcm() {
  const keyring = new Keyring();
  keyring.createKey('k');
  return keyring;
}

const malformed = (message: string) =>
  expect.objectContaining({ code: 'ERR_MALFORMED_CIPHERTEXT', message });

describe('envelope structure', () => {
  it('parses the shortest envelope (header, nonce, tag) and refuses anything shorter', () => {
    const keyring = gcm();
    const empty = keyring.encrypt('k', '');
    expect(empty).toHaveLength(42);
    expect(parseEnvelope(empty).sealed).toHaveLength(16);
    expect(keyring.decrypt(empty)).toHaveLength(0);
    expect(() => parseEnvelope(empty.subarray(0, 41))).toThrow(
      malformed('ciphertext is truncated: shorter than header, nonce and tag'),
    );
    expect(() => parseEnvelope(empty.subarray(0, 14))).toThrow(
      malformed('ciphertext is truncated: shorter than header, nonce and tag'),
    );
    expect(() => parseEnvelope(empty.subarray(0, 13))).toThrow(
      malformed('ciphertext is too short to hold an envelope header'),
    );
  });

  it('names a bad format version, algorithm id or key version', () => {
    const good = gcm().encrypt('k', 'x');
    const withBytes = (at: number, ...bytes: number[]) => {
      const copy = Buffer.from(good);
      copy.set(bytes, at);
      return copy;
    };
    expect(() => parseEnvelope(withBytes(0, 2))).toThrow(
      malformed('unsupported envelope format version 2'),
    );
    expect(() => parseEnvelope(withBytes(1, 0))).toThrow(
      malformed('unknown envelope algorithm id 0'),
    );
    expect(() => parseEnvelope(withBytes(10, 0, 0, 0, 0))).toThrow(
      malformed('envelope key version 0 is invalid'),
    );
    expect(parseEnvelope(withBytes(10, 0xff, 0xff, 0xff, 0xff)).keyVersion).toBe(0xffffffff);
  });

  it('reads a plain Uint8Array view at any offset', () => {
    const good = gcm().encrypt('k', 'abc');
    const backing = new Uint8Array(good.length + 3);
    backing.set(good, 3);
    const view = backing.subarray(3);
    expect(Buffer.isBuffer(view)).toBe(false);
    expect(parseEnvelope(view)).toMatchObject(parseEnvelope(good));
    expect(envelopeToText(view)).toBe(envelopeToText(good));
  });

  it('tells text envelopes by their prefix only, and anything else is not one', () => {
    expect(isTextEnvelope('custos:')).toBe(true);
    for (const value of [
      'Custos:AQ',
      ' custos:AQ',
      'vault:v1:x',
      '',
      undefined,
      null,
      42,
      Buffer.from('custos:'),
    ]) {
      expect(isTextEnvelope(value), String(value)).toBe(false);
    }
  });

  it('refuses a text form of a length no base64url text has, or with the standard alphabet', () => {
    const keyring = gcm();
    const text = keyring.encryptToString('k', 'x'.repeat(3)); // 45 bytes: 60 characters
    expect(text.length - 7).toBe(60);
    expect(() => parseEnvelope(`${text}A`)).toThrow(
      malformed('text ciphertext is not valid base64url'),
    );
    // One standard character at a time, so each is refused on its own account.
    for (const [urlChar, standardChar] of [
      ['-', '+'],
      ['_', '/'],
    ]) {
      let urlSafe = text;
      while (!urlSafe.slice(7).includes(urlChar as string)) {
        urlSafe = keyring.encryptToString('k', 'x'.repeat(3));
      }
      const body = urlSafe
        .slice(7)
        .split(urlChar as string)
        .join(standardChar);
      expect(Buffer.from(body, 'base64').equals(Buffer.from(urlSafe.slice(7), 'base64url'))).toBe(
        true,
      );
      expect(() => parseEnvelope(`custos:${body}`), standardChar).toThrow(
        malformed('text ciphertext is not valid base64url'),
      );
    }
  });

  it('refuses a character outside the base64url alphabet anywhere in the text form', () => {
    const keyring = gcm();
    // 45 bytes: 60 characters, no unused bits, so only the decoded length can tell.
    const text = keyring.encryptToString('k', 'x'.repeat(3));
    const body = text.slice(7);
    for (const at of [0, 1, 20, 30, 58, 59]) {
      for (const char of ['*', ' ', '=', '.', '!', '\n', 'é', '%']) {
        const changed = `custos:${body.slice(0, at)}${char}${body.slice(at + 1)}`;
        expect(changed.length, `${at} ${JSON.stringify(char)}`).toBe(text.length);
        expect(() => parseEnvelope(changed), `${at} ${JSON.stringify(char)}`).toThrow(
          malformed('text ciphertext is not valid base64url'),
        );
        expect(() => keyring.decrypt(changed), `${at} ${JSON.stringify(char)}`).toThrow(
          malformed('text ciphertext is not valid base64url'),
        );
      }
    }
    expect(keyring.decrypt(text).toString()).toBe('xxx');
  });

  it('refuses a final character with any unused bit set', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const keyring = gcm();
    // 43 bytes end in 2 characters' worth of 4 unused bits; 44 bytes in 2 unused bits.
    for (const [plaintext, unusedBits] of [
      ['x', 4],
      ['xx', 2],
    ] as const) {
      const text = keyring.encryptToString('k', plaintext);
      const last = alphabet.indexOf(text.at(-1) as string);
      expect(last & ((1 << unusedBits) - 1)).toBe(0);
      for (let bit = 0; bit < unusedBits; bit++) {
        const changed = text.slice(0, -1) + alphabet[last | (1 << bit)];
        expect(() => parseEnvelope(changed), `${unusedBits}/${bit}`).toThrow(
          malformed('text ciphertext is not canonical base64url'),
        );
      }
      expect(keyring.decrypt(text).toString()).toBe(plaintext);
    }
  });
});

describe('Keyring decryption refusals', () => {
  it('names the key id it does not hold, the version it lacks, and a destroyed version', () => {
    const keyring = gcm();
    const { id } = keyring.info('k');
    const v1 = keyring.encrypt('k', 'x');
    keyring.rotate('k');
    const v2 = keyring.encrypt('k', 'x');
    const foreign = new Keyring();
    const other = foreign.createKey('o');
    expect(() => keyring.decrypt(foreign.encrypt('o', 'x'))).toThrow(
      expect.objectContaining({
        code: 'ERR_DECRYPTION_FAILED',
        message: `decryption failed: this keyring holds no key ${other.id}`,
      }),
    );
    // The key id this keyring holds, under another algorithm byte: not this key.
    const chacha = Buffer.from(v1);
    chacha[1] = 2;
    expect(() => keyring.decrypt(chacha)).toThrow(
      expect.objectContaining({ message: `decryption failed: this keyring holds no key ${id}` }),
    );
    const v9 = Buffer.from(v2);
    v9.writeUInt32BE(9, 10);
    expect(() => keyring.decrypt(v9)).toThrow(
      expect.objectContaining({ message: 'decryption failed: key "k" has no version 9' }),
    );
    keyring.setState('k', 1, 'destroyed');
    expect(() => keyring.decrypt(v1)).toThrow(
      expect.objectContaining({ message: 'decryption failed: version 1 of "k" is destroyed' }),
    );
  });

  it('refuses an authentic value under a disabled version or below the minimum, naming why', () => {
    const keyring = gcm();
    const v1 = keyring.encrypt('k', 'x');
    keyring.rotate('k');
    keyring.setState('k', 1, 'disabled');
    expect(() => keyring.decrypt(v1)).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_DISABLED',
        message: 'version 1 of "k" is disabled',
      }),
    );
    keyring.setState('k', 1, 'enabled');
    keyring.setMinDecryptionVersion('k', 2);
    expect(() => keyring.decrypt(v1)).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_DISABLED',
        message: 'version 1 of "k" is below the minimum decryption version 2',
      }),
    );
  });
});
