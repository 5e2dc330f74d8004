/**
 * Stored known-answer vectors of the envelope format (`envelope-v1.json` in
 * `packages/test-support/vectors/`, written once by its `generate.ts`): ciphertexts made by an
 * earlier build must decrypt with today's code. A change of layout, associated data or key
 * derivation that still round-trips fails here, because it would make every stored ciphertext
 * unreadable.
 */

import {
  type EnvelopeVector,
  type EnvelopeVectorFile,
  readRepoFile,
  readVectorFile,
  storedAad,
  storedBytes,
} from '@custos/test-support/vectors';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_TEXT_PREFIX, envelopeToText, loadKeyring, parseEnvelope } from './index.js';

const file = readVectorFile<EnvelopeVectorFile>('envelope-v1.json');
/**
 * The stored keyring, loaded inside each test rather than on import: code run on import is a
 * static mutant to Stryker (`npm run mutation crypto`), which then runs the module's whole suite
 * against every mutant of loadKeyring and the keyring instead of the tests that reach it.
 */
const storedKeyring = () => loadKeyring(file.keyring);

const envelopeOf = (v: EnvelopeVector) =>
  'text' in v.envelope ? v.envelope.text : Buffer.from(v.envelope.hex, 'hex');
const optionsOf = (v: EnvelopeVector) => ({
  ...(v.aad === undefined ? {} : { aad: storedAad(v.aad) }),
  ...(v.keyContext === undefined ? {} : { keyContext: storedBytes(v.keyContext) }),
});
const byName = file.vectors.map((v) => [v.name, v] as const);

describe('stored envelope vectors (format version 1)', () => {
  it('cover every algorithm, both forms, associated data of each kind and key contexts', () => {
    const vectors = file.vectors;
    expect(new Set(vectors.map((v) => v.algorithm))).toEqual(
      new Set(['aes-256-gcm', 'chacha20-poly1305', 'aes-256-gcm-siv']),
    );
    expect(vectors.some((v) => 'hex' in v.envelope)).toBe(true);
    expect(vectors.some((v) => 'text' in v.envelope)).toBe(true);
    for (const kind of ['utf8', 'hex', 'record']) {
      expect(vectors.some((v) => v.aad !== undefined && kind in v.aad)).toBe(true);
    }
    expect(vectors.some((v) => v.keyContext !== undefined)).toBe(true);
    expect(vectors.some((v) => v.keyVersion > 1)).toBe(true);
  });

  it.each(byName)('%s: header, then the stored plaintext', (_name, v) => {
    const envelope = envelopeOf(v);
    expect(parseEnvelope(envelope)).toMatchObject({
      formatVersion: 1,
      algorithm: v.algorithm,
      keyId: v.keyId,
      keyVersion: v.keyVersion,
    });
    const keyring = storedKeyring();
    expect(keyring.decrypt(envelope, optionsOf(v)).equals(storedBytes(v.plaintext))).toBe(true);
    // The other form of the same envelope reads the same.
    const other =
      typeof envelope === 'string'
        ? Buffer.from(envelope.slice(ENVELOPE_TEXT_PREFIX.length), 'base64url')
        : envelopeToText(envelope);
    expect(keyring.decrypt(other, optionsOf(v)).equals(storedBytes(v.plaintext))).toBe(true);
  });

  it.each(byName.filter(([, v]) => v.aad !== undefined || v.keyContext !== undefined))(
    '%s: refused without its associated data and key context',
    (_name, v) => {
      expect(() => storedKeyring().decrypt(envelopeOf(v))).toThrow(
        expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
      );
    },
  );

  it.each(byName.filter(([, v]) => v.algorithm === 'aes-256-gcm-siv'))(
    '%s: deterministic, so encrypting again gives the stored envelope',
    (_name, v) => {
      const again = storedKeyring().encrypt(v.key, storedBytes(v.plaintext), {
        ...optionsOf(v),
        version: v.keyVersion,
      });
      const stored = envelopeOf(v);
      expect(typeof stored === 'string' ? envelopeToText(again) : again.toString('hex')).toBe(
        typeof stored === 'string' ? stored : stored.toString('hex'),
      );
    },
  );

  it('the example in FORMAT.md is a stored vector, quoted verbatim', () => {
    const quoted = file.vectors.filter((v) => v.quotedIn !== undefined);
    expect(quoted.map((v) => v.quotedIn)).toEqual(['packages/core/src/crypto/FORMAT.md']);
    const v = quoted[0] as EnvelopeVector;
    const doc = readRepoFile(v.quotedIn as string);
    expect(doc).toContain(`    ${(v.envelope as { text: string }).text}\n`);
    expect(doc).toContain(v.keyId);
    expect(doc).toContain(JSON.stringify((v.plaintext as { utf8: string }).utf8));
  });
});
