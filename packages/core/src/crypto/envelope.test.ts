import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_HEADER_LENGTH,
  envelopeToText,
  isTextEnvelope,
  parseEnvelope,
} from './envelope.js';
import { Keyring } from './keyring.js';

describe('envelope', () => {
  it('describes itself: format, algorithm, key id and version, readable without the key', () => {
    const keyring = new Keyring();
    const { id } = keyring.createKey('k', { algorithm: 'chacha20-poly1305' });
    keyring.rotate('k');
    const envelope = keyring.encrypt('k', 'abc');
    const parsed = parseEnvelope(envelope);
    expect(parsed).toMatchObject({
      formatVersion: 1,
      algorithm: 'chacha20-poly1305',
      keyId: id,
      keyVersion: 2,
    });
    expect(parsed.header).toHaveLength(ENVELOPE_HEADER_LENGTH);
    expect(parsed.nonce).toHaveLength(12);
    expect(parsed.sealed).toHaveLength(3 + 16);
    expect(parseEnvelope(envelopeToText(envelope))).toMatchObject({ keyId: id, keyVersion: 2 });
    expect(isTextEnvelope(envelopeToText(envelope))).toBe(true);
  });

  it('has the overhead FORMAT.md states', () => {
    const keyring = new Keyring();
    keyring.createKey('gcm');
    keyring.createKey('siv', { algorithm: 'aes-256-gcm-siv' });
    for (const n of [0, 1, 32, 1000]) {
      const data = Buffer.alloc(n);
      expect(keyring.encrypt('gcm', data)).toHaveLength(n + 42);
      expect(keyring.encrypt('siv', data)).toHaveLength(n + 30);
      expect(keyring.encryptToString('gcm', data)).toHaveLength(7 + Math.ceil((4 * (n + 42)) / 3));
    }
  });

  it('parses the example in FORMAT.md', async () => {
    const doc = await readFile(new URL('./FORMAT.md', import.meta.url), 'utf8');
    const example = /^ {4}(custos:[A-Za-z0-9_-]+)$/m.exec(doc)?.[1] as string;
    expect(parseEnvelope(example)).toMatchObject({
      formatVersion: 1,
      algorithm: 'aes-256-gcm',
      keyVersion: 1,
    });
    expect(parseEnvelope(example).sealed).toHaveLength(5 + 16);
  });

  it('refuses structural damage with messages that say what is wrong', () => {
    const keyring = new Keyring();
    keyring.createKey('k');
    const good = keyring.encrypt('k', 'x');
    const withByte = (i: number, v: number) => {
      const copy = Buffer.from(good);
      copy[i] = v;
      return copy;
    };
    expect(() => parseEnvelope(good.subarray(0, 5))).toThrow(/too short/);
    expect(() => parseEnvelope(withByte(0, 9))).toThrow(/format version 9/);
    expect(() => parseEnvelope(withByte(1, 77))).toThrow(/algorithm id 77/);
    expect(() => parseEnvelope(good.subarray(0, 30))).toThrow(/truncated/);
    expect(() => parseEnvelope('vault:v1:abc')).toThrow(/must start with "custos:"/);
    expect(() => parseEnvelope('custos:a$b')).toThrow(/base64url/);
    const text = envelopeToText(good);
    expect(text.length % 4).not.toBe(0); // has a final partial group with unused bits
  });
});
