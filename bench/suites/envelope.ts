import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { decryptStringSync, encryptStringSync, generateKey, parseKeySync } from '@47ng/cloak';
import { Keyring, parseEnvelope } from '@custos/core/crypto';
import { compare } from '../lib/measure.js';
import type { Section, Table } from '../lib/report.js';

const PREFIX = 'custos:';

/**
 * Envelope encryption and decryption of short and 1 KiB values, text form, against:
 * - a bare node:crypto AES-256-GCM loop writing the very same envelope bytes, with
 *   `randomBytes(12)` per call as a hand-written helper does;
 * - the same bare loop drawing nonces from a pre-filled block (what custos does), to show how
 *   much of the difference is the nonce source;
 * - @47ng/cloak's synchronous API with a pre-parsed key (its fastest path).
 */
export function envelopeSuite(): Section {
  const keyring = new Keyring();
  keyring.createKey('bench');
  const material = randomBytes(32);
  keyring.createKey('bare', { material });
  // The bare loop writes this key's header, so its output decrypts with the keyring.
  const header = parseEnvelope(keyring.encrypt('bare', 'x')).header;
  const cloakKey = parseKeySync(generateKey());

  let pool = randomBytes(6144);
  let offset = 0;
  const pooledNonce = () => {
    if (offset + 12 > pool.length) {
      pool = randomBytes(6144);
      offset = 0;
    }
    offset += 12;
    return pool.subarray(offset - 12, offset);
  };

  const bareEncrypt = (value: string, nonce: Buffer) => {
    const cipher = createCipheriv('aes-256-gcm', material, nonce, { authTagLength: 16 });
    cipher.setAAD(header);
    const body = cipher.update(value, 'utf8');
    cipher.final();
    return PREFIX + Buffer.concat([header, nonce, body, cipher.getAuthTag()]).toString('base64url');
  };
  const bareDecrypt = (text: string) => {
    const bytes = Buffer.from(text.slice(PREFIX.length), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', material, bytes.subarray(14, 26), {
      authTagLength: 16,
    });
    decipher.setAAD(bytes.subarray(0, 14));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const out = decipher.update(bytes.subarray(26, bytes.length - 16));
    decipher.final();
    return out.toString('utf8');
  };

  const tables: Table[] = [];
  for (const size of [32, 1024]) {
    const value = 'x'.repeat(size);
    const sample = bareEncrypt(value, randomBytes(12));
    if (keyring.decrypt(sample).toString() !== value) throw new Error('bare loop output differs');
    const custosText = keyring.encryptToString('bench', value);
    const cloakText = encryptStringSync(value, cloakKey);
    const goals = (op: string) =>
      size === 32
        ? [
            {
              description: `custos ${op} of a 32-byte value ≥ 0.8× the bare node:crypto loop`,
              candidate: 'custos',
              against: 'bare node:crypto',
              atLeast: 0.8,
            },
            {
              description: `custos ${op} of a 32-byte value faster than @47ng/cloak`,
              candidate: 'custos',
              against: '@47ng/cloak',
              atLeast: 1,
            },
          ]
        : [];
    tables.push({
      title: `encrypt, ${size}-byte value (text envelope)`,
      baseline: 'bare node:crypto',
      rows: compare([
        { name: 'bare node:crypto', run: () => bareEncrypt(value, randomBytes(12)) },
        { name: 'bare node:crypto, pooled nonces', run: () => bareEncrypt(value, pooledNonce()) },
        { name: 'custos', run: () => keyring.encryptToString('bench', value) },
        { name: '@47ng/cloak', run: () => encryptStringSync(value, cloakKey) },
      ]),
      goals: goals('encrypt'),
    });
    tables.push({
      title: `decrypt, ${size}-byte value (text envelope)`,
      baseline: 'bare node:crypto',
      rows: compare([
        { name: 'bare node:crypto', run: () => bareDecrypt(sample) },
        { name: 'custos', run: () => keyring.decrypt(custosText).toString('utf8') },
        { name: '@47ng/cloak', run: () => decryptStringSync(cloakText, cloakKey) },
      ]),
      goals: goals('decrypt'),
    });
  }
  return {
    heading: 'Envelope encryption (`@custos/core/crypto`, AES-256-GCM)',
    notes: [
      'Text envelopes (`custos:` + base64url) from a string value. "bare node:crypto" writes the',
      'same envelope bytes with `createCipheriv` and `randomBytes(12)` per call; the "pooled',
      'nonces" row draws nonces from a pre-filled 6 KiB block as custos does. @47ng/cloak uses',
      'its synchronous API with a pre-parsed key.',
    ].join('\n'),
    tables,
  };
}
