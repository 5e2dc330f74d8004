import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { decryptStringSync, encryptStringSync, generateKey, parseKeySync } from '@47ng/cloak';
import { Keyring } from '@custos/core/crypto';
import { createFieldCipher } from '@custos/core/fields';
import { compare } from '../lib/measure.js';
import type { Goal, Section, Table } from '../lib/report.js';
import { fieldsKmsTables } from './fields-kms.js';
import { reencryptTables } from './fields-reencrypt.js';

const PREFIX = 'custos:';
const context = { table: 'patients', column: 'ssn', rowId: 421 };

/**
 * Field encryption (`@custos/core/fields`, keyring mode, bound to table, column and row) of
 * 32-byte and 1 KiB values, and a blind index of a 32-byte value, against a bare node:crypto
 * loop and @47ng/cloak; then `custos reencrypt` rows/s and peak memory on SQLite and PostgreSQL.
 */
export async function fieldsSuite(): Promise<Section> {
  const keyring = new Keyring();
  keyring.createKey('default');
  keyring.createKey('blind-index');
  const fc = createFieldCipher({ keyring });
  const cloakKey = parseKeySync(generateKey());
  const key = randomBytes(32);
  const hmacKey = randomBytes(32);
  // What a careful hand-written helper does: AES-256-GCM, a fresh random nonce per value, the
  // row bound as associated data (built per call from the context, as a helper that serves
  // every row must; a plain join, less strict than custos' canonical record), base64url text.
  const aadOf = (c: typeof context) => Buffer.from(`${c.table}/${c.column}/${c.rowId}`);
  const bareEncrypt = (value: string) => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    cipher.setAAD(aadOf(context));
    const body = cipher.update(value, 'utf8');
    cipher.final();
    return PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  };
  const bareDecrypt = (text: string) => {
    const bytes = Buffer.from(text.slice(PREFIX.length), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12), {
      authTagLength: 16,
    });
    decipher.setAAD(aadOf(context));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const out = decipher.update(bytes.subarray(12, bytes.length - 16));
    decipher.final();
    return out.toString('utf8');
  };

  const tables: Table[] = [];
  for (const size of [32, 1024]) {
    const value = 'x'.repeat(size);
    const bare = bareEncrypt(value);
    const stored = fc.encrypt(value, context);
    const cloaked = encryptStringSync(value, cloakKey);
    if (fc.decrypt(stored, context) !== value || bareDecrypt(bare) !== value) {
      throw new Error('round trip failed');
    }
    tables.push({
      title: `field encrypt, ${size}-byte string (bound to table, column, row)`,
      baseline: 'bare node:crypto',
      rows: compare([
        { name: 'bare node:crypto', run: () => bareEncrypt(value) },
        { name: 'custos', run: () => fc.encrypt(value, context) },
        { name: '@47ng/cloak', run: () => encryptStringSync(value, cloakKey) },
      ]),
      goals: goals('encrypt', size),
    });
    tables.push({
      title: `field decrypt, ${size}-byte string`,
      baseline: 'bare node:crypto',
      rows: compare([
        { name: 'bare node:crypto', run: () => bareDecrypt(bare) },
        { name: 'custos', run: () => fc.decrypt(stored, context) },
        { name: '@47ng/cloak', run: () => decryptStringSync(cloaked, cloakKey) },
      ]),
      goals: goals('decrypt', size),
    });
  }

  const email = 'jane.doe.1990@example-clinic.org'; // 32 bytes
  const indexOptions = { table: 'patients', column: 'email', normalize: true };
  tables.push({
    title: 'blind index of a 32-byte value (64 bits, normalised)',
    baseline: 'bare node:crypto',
    rows: compare([
      {
        name: 'bare node:crypto',
        run: () =>
          createHmac('sha256', hmacKey)
            .update(email.normalize('NFKC').trim().toLowerCase())
            .digest()
            .subarray(0, 8)
            .toString('base64url'),
      },
      { name: 'custos', run: () => fc.blindIndex(email, indexOptions) },
      {
        name: 'unkeyed SHA-256 (prisma-field-encryption style, guessable)',
        run: () => createHash('sha256').update(email).digest('hex'),
      },
    ]),
    goals: [
      {
        description: 'custos blind index of a 32-byte value ≥ 0.8× a bare HMAC loop',
        candidate: 'custos',
        against: 'bare node:crypto',
        atLeast: 0.8,
      },
    ],
  });

  const kmsMode = await fieldsKmsTables();
  tables.push(...kmsMode.tables);

  const reencrypt = await reencryptTables();
  tables.push(...reencrypt.tables);

  return {
    heading: 'Field encryption (`@custos/core/fields`) and `custos reencrypt`',
    notes: [
      'Keyring mode, text envelopes, every value bound to table, column and row. "bare',
      'node:crypto" is a hand-written AES-256-GCM helper (random nonce per value, `table/column/row`',
      'joined per call as associated data, base64url); custos also authenticates its header, checks',
      'the key version and encodes the value type. @47ng/cloak uses its synchronous API with a pre-parsed key',
      '(no associated data). The blind-index baseline is the same normalisation and HMAC-SHA256',
      'with a fixed key; custos derives a per-column key (cached) and encodes the value type.',
      '@47ng/cloak has no lookup hash (only an 8-character SHA-256 fingerprint of the key), so the',
      'blind index is compared with the unkeyed SHA-256 of the value that prisma-field-encryption',
      'stores instead.',
      '',
      kmsMode.notes,
      '',
      reencrypt.notes,
    ].join('\n'),
    tables,
  };
}

function goals(op: string, size: number): Goal[] {
  const value = size === 32 ? 'a 32-byte value' : 'a 1 KiB value';
  return [
    {
      description: `custos field ${op} of ${value} ≥ 0.8× the bare node:crypto loop`,
      candidate: 'custos',
      against: 'bare node:crypto',
      atLeast: 0.8,
    },
    {
      description: `custos field ${op} of ${value} faster than @47ng/cloak`,
      candidate: 'custos',
      against: '@47ng/cloak',
      atLeast: 1,
    },
  ];
}
