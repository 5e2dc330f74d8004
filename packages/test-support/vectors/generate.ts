/**
 * Writes the stored known-answer vectors of `packages/test-support/vectors/`. Run it ONLY when adding a format
 * version, as a new file (`envelope-v2.json`, …); NEVER regenerate an existing file: those
 * vectors stand for data already stored by users, which every later release must still read.
 * The script refuses to overwrite a file that exists.
 *
 *     npx tsc -b && npx tsx packages/test-support/vectors/generate.ts
 *
 * Key material is random at generation and then fixed forever in the file. See `README.md`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envelopeToText, Keyring, serializeKeyring } from '@custos/core/crypto';
import {
  createFieldCipher,
  createKeyringKms,
  type FieldCipher,
  type FieldContext,
  type FieldValue,
} from '@custos/core/fields';
import { LocalKms, localKmsDataKeys } from '@custos/core/kms';
import { BARRIER_KEY, createBarrier } from '../../server/src/barrier/barrier.js';
import { createRootKey, encryptKeyring } from '../../server/src/seal/root-key.js';
import { openStorage } from '../../server/src/storage/database.js';
import { createEntryStore } from '../../server/src/storage/entry-store.js';
import {
  type BarrierVectorFile,
  type BlindIndexVector,
  type BlindIndexVectorFile,
  type EnvelopeVector,
  type EnvelopeVectorFile,
  type FieldVector,
  type FieldVectorFile,
  type StoredAad,
  type StoredBytes,
  type StoredFieldContext,
  type StoredFieldValue,
  storedAad,
  storedBytes,
  storedFieldValue,
  type TransitCiphertextVector,
  type TransitHmacVector,
  type TransitSignatureVector,
  type TransitVectorFile,
  vectorFilePath,
} from '../src/vectors.js';

// A fixed clock, so `createdAt` and policy times in the files say when the vectors were made.
const MADE_AT = new Date('2025-01-01T00:00:00.000Z');
const now = () => MADE_AT;

async function writeOnce(name: string, make: () => Promise<unknown>): Promise<void> {
  const path = vectorFilePath(name);
  if (existsSync(path)) {
    process.stdout.write(`${name}: exists, left as it is (stored vectors are never regenerated)\n`);
    return;
  }
  await writeFile(path, `${JSON.stringify(await make(), null, 2)}\n`);
  process.stdout.write(`${name}: written\n`);
}

const utf8 = (text: string): StoredBytes => ({ utf8: text });
const hex = (bytes: Buffer): StoredBytes => ({ hex: bytes.toString('hex') });
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

async function envelopeVectors(): Promise<EnvelopeVectorFile> {
  const keyring = new Keyring({ now });
  keyring.createKey('gcm');
  keyring.createKey('chacha', { algorithm: 'chacha20-poly1305' });
  keyring.createKey('siv', { algorithm: 'aes-256-gcm-siv' });
  const vectors: EnvelopeVector[] = [];
  const cases: {
    label: string;
    plaintext: StoredBytes;
    aad?: StoredAad;
    keyContext?: StoredBytes;
    binary: boolean;
  }[] = [
    { label: 'short text, no associated data', plaintext: utf8('hello'), binary: false },
    { label: 'empty plaintext, binary form', plaintext: utf8(''), binary: true },
    {
      label: 'text associated data',
      plaintext: utf8('078-05-1120'),
      aad: utf8('patients/ssn/42'),
      binary: false,
    },
    {
      label: 'raw bytes as associated data',
      plaintext: utf8('bytes aad'),
      aad: hex(Buffer.from('00ad01ff', 'hex')),
      binary: true,
    },
    {
      label: 'record associated data',
      plaintext: utf8('Jane Doe'),
      aad: { record: { tenant: 'acme', table: 'patients', column: 'name', row: 42 } },
      binary: false,
    },
    {
      label: 'tenant key context and record associated data',
      plaintext: utf8('tenant secret'),
      aad: { record: { table: 'patients', column: 'ssn', row: '7' } },
      keyContext: utf8('tenant/acme'),
      binary: false,
    },
    {
      label: 'binary plaintext, binary key context, binary form',
      plaintext: hex(ALL_BYTES),
      keyContext: hex(Buffer.from('0001feff', 'hex')),
      binary: true,
    },
  ];
  const add = (key: string, version?: number) => {
    const info = keyring.info(key);
    const keyVersion = version ?? info.primaryVersion;
    for (const c of cases) {
      const envelope = keyring.encrypt(key, storedBytes(c.plaintext), {
        ...(c.aad === undefined ? {} : { aad: storedAad(c.aad) }),
        ...(c.keyContext === undefined ? {} : { keyContext: storedBytes(c.keyContext) }),
        ...(version === undefined ? {} : { version }),
      });
      vectors.push({
        name: `${info.algorithm} v${keyVersion}: ${c.label}`,
        key,
        algorithm: info.algorithm,
        keyId: info.id,
        keyVersion,
        ...(c.aad === undefined ? {} : { aad: c.aad }),
        ...(c.keyContext === undefined ? {} : { keyContext: c.keyContext }),
        plaintext: c.plaintext,
        envelope: c.binary ? { hex: envelope.toString('hex') } : { text: envelopeToText(envelope) },
        ...(key === 'gcm' && keyVersion === 1 && c.label.startsWith('short text')
          ? { quotedIn: 'packages/core/src/crypto/FORMAT.md' }
          : {}),
      });
    }
  };
  add('gcm');
  add('chacha');
  add('siv');
  keyring.rotate('gcm');
  keyring.rotate('siv');
  add('gcm');
  add('siv');
  return {
    description:
      'Envelope format version 1 (packages/core/src/crypto/FORMAT.md): every vector must decrypt with this keyring, forever. Never regenerate; see README.md.',
    keyring: JSON.parse(serializeKeyring(keyring)),
    vectors,
  };
}

const typed = (value: StoredFieldValue): StoredFieldValue => value;

// fields-v1.json holds the legacy blind indexes (`v<n>.`, derived from the encryption key); this
// generator now writes indexes under a blind-index key of their own (`b<n>.`). The stored file
// is never regenerated; its test reads the legacy indexes through legacyBlindIndexKeyName.
async function fieldVectors(): Promise<FieldVectorFile> {
  const keyring = new Keyring({ now });
  keyring.createKey('default');
  keyring.createKey('blind-index');
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  keyring.createKey('kek');
  const kms = new LocalKms({ now });
  kms.createKey('field-keys', { exportable: true, allowPlaintextBackup: true });
  const fields: FieldVector[] = [];
  const blindIndexes: BlindIndexVector[] = [];
  const values: StoredFieldValue[] = [
    typed({ string: 'Jane Doe' }),
    typed({ string: '' }),
    typed({ number: 42.5 }),
    typed({ number: 'NaN' }),
    typed({ number: '-0' }),
    typed({ number: '-Infinity' }),
    typed({ boolean: true }),
    typed({ date: '1990-04-01T12:30:00.000Z' }),
    typed({ bytes: 'deadbeef00' }),
    typed({ json: { a: [1, 'x', null], b: { c: true } } }),
    typed({ json: null }),
    typed({ bigint: '-123456789012345678901234567890' }),
  ];
  const contexts: StoredFieldContext[] = [
    { table: 'patients', column: 'ssn', rowId: 42 },
    { table: 'patients', column: 'ssn', rowId: 'a-7', tenantId: 'acme' },
    { table: 'patients', column: 'notes' },
    { table: 'patients', column: 'notes', rowId: 3, padding: { blockBytes: 16 } },
    { table: 'patients', column: 'email', deterministic: true },
    { table: 'patients', column: 'email', deterministic: true, tenantId: 9 },
  ];
  const contextOf = (c: StoredFieldContext) => c as FieldContext;
  const keyringRound = () => {
    const fc = createFieldCipher({ keyring });
    for (const context of contexts) {
      for (const value of context.deterministic ? values.slice(0, 3) : values) {
        const ciphertext = fc.encrypt(storedFieldValue(value) as FieldValue, contextOf(context));
        const info = fc.describe(ciphertext);
        fields.push({
          name: `keyring ${info.keyName} v${info.keyVersion}: ${JSON.stringify(value)} in ${JSON.stringify(context)}`,
          mode: 'keyring',
          value,
          context,
          ciphertext,
          keyName: info.keyName as string,
          keyVersion: info.keyVersion,
          ...(info.keyVersion === 1 &&
          !context.deterministic &&
          context.rowId === 42 &&
          'string' in value &&
          value.string === 'Jane Doe'
            ? { quotedIn: 'packages/core/src/fields/FORMAT.md' }
            : {}),
        });
      }
    }
  };
  const envelopeRound = async () => {
    const modes = {
      'local-kms': createFieldCipher({ kms: localKmsDataKeys(kms, 'field-keys'), keyring }),
      'keyring-kms': createFieldCipher({ kms: createKeyringKms(keyring, { keyName: 'kek' }) }),
    } as const;
    for (const [mode, fc] of Object.entries(modes)) {
      for (const context of contexts.filter((c) => !c.deterministic)) {
        const value = typed({ string: `${mode} value` });
        fields.push({
          name: `${mode} (wrapping key v${mode === 'local-kms' ? kms.readKey('field-keys').latest_version : keyring.info('kek').primaryVersion}): ${JSON.stringify(context)}`,
          mode: mode as FieldVector['mode'],
          value,
          context,
          ciphertext: await fc.encrypt(storedFieldValue(value) as FieldValue, contextOf(context)),
        });
      }
    }
  };
  const indexRound = (version?: number, quote = false) => {
    blindIndexes.push(...blindIndexVectors(createFieldCipher({ keyring }), version, quote));
  };
  keyringRound();
  await envelopeRound();
  indexRound(undefined, true);
  keyring.rotate('default');
  keyring.rotate('deterministic');
  keyring.rotate('kek');
  kms.rotate('field-keys');
  keyringRound();
  await envelopeRound();
  indexRound(1);
  indexRound();
  return {
    description:
      'Field ciphertexts and blind indexes, format 1 (packages/core/src/fields/FORMAT.md): every value must decrypt (and every blind index recompute) with these keys, forever. Never regenerate; see README.md.',
    keyring: JSON.parse(serializeKeyring(keyring)),
    kmsFile: { format: 'custos.kms.v1', keys: [kms.backup('field-keys')] },
    kmsKey: 'field-keys',
    keyringKmsKey: 'kek',
    fields,
    blindIndexes,
  };
}

/** The blind indexes of every case under `version` (default the primary). */
function blindIndexVectors(fc: FieldCipher, version?: number, quote = false): BlindIndexVector[] {
  const cases: { value: StoredFieldValue; options: BlindIndexVector['options'] }[] = [
    {
      value: typed({ string: ' Jane@Example.COM ' }),
      options: { table: 'users', column: 'email', normalize: true },
    },
    {
      value: typed({ string: 'jane@example.com' }),
      options: { table: 'users', column: 'email' },
    },
    {
      value: typed({ string: 'jane@example.com' }),
      options: { table: 'users', column: 'email', tenantId: 'acme', bits: 16 },
    },
    { value: typed({ number: 42 }), options: { table: 'users', column: 'age', bits: 256 } },
    { value: typed({ string: '42' }), options: { table: 'users', column: 'age', bits: 13 } },
    {
      value: typed({ string: '1990-04-01' }),
      options: {
        table: 'users',
        column: 'dob',
        slow: { memoryKiB: 64, iterations: 1, parallelism: 1 },
      },
    },
  ];
  return cases.map((c) => {
    const options = version === undefined ? c.options : { ...c.options, version };
    const index = fc.blindIndex(storedFieldValue(c.value) as FieldValue, options);
    return {
      name: `${index.split('.')[0]}: ${JSON.stringify(c.value)} with ${JSON.stringify(options)}`,
      value: c.value,
      options,
      index,
      ...(quote && c.options.normalize === true
        ? { quotedIn: 'packages/core/src/fields/FORMAT.md' }
        : {}),
    };
  });
}

/**
 * Blind indexes under a blind-index key of their own (`b<version>.`): two versions of that key,
 * and an encryption key rotated in between that must change none of them.
 */
async function blindIndexKeyVectors(): Promise<BlindIndexVectorFile> {
  const keyring = new Keyring({ now });
  keyring.createKey('default');
  keyring.createKey('blind-index');
  const fc = createFieldCipher({ keyring });
  const blindIndexes = blindIndexVectors(fc);
  keyring.rotate('default');
  keyring.rotate('blind-index');
  blindIndexes.push(...blindIndexVectors(fc, 1), ...blindIndexVectors(fc));
  return {
    description:
      'Blind indexes under a blind-index key of their own, format 2 (b<version>., packages/core/src/fields/FORMAT.md): every index must recompute with these keys, forever, whatever the encryption key does. Never regenerate; see README.md.',
    keyring: JSON.parse(serializeKeyring(keyring)),
    blindIndexes,
  };
}

async function transitVectors(): Promise<TransitVectorFile> {
  const kms = new LocalKms({ now });
  const backup = { exportable: true, allowPlaintextBackup: true } as const;
  kms.createKey('aes', backup);
  kms.createKey('chacha', { ...backup, type: 'chacha20-poly1305' });
  kms.createKey('derived', { ...backup, derived: true });
  kms.createKey('convergent', { ...backup, derived: true, convergentEncryption: true });
  kms.createKey('ed', { ...backup, type: 'ed25519' });
  kms.createKey('ec', { ...backup, type: 'ecdsa-p256' });
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const ciphertexts: TransitCiphertextVector[] = [];
  const hmacs: TransitHmacVector[] = [];
  const signatures: TransitSignatureVector[] = [];
  const encrypt = (key: string, plaintext: string, context?: string, associatedData?: string) => {
    const { ciphertext, keyVersion } = kms.encrypt(key, Buffer.from(plaintext, 'base64'), {
      ...(context === undefined ? {} : { context: Buffer.from(context, 'base64') }),
      ...(associatedData === undefined
        ? {}
        : { associatedData: Buffer.from(associatedData, 'base64') }),
    });
    ciphertexts.push({
      name: `${key} v${keyVersion}${context === undefined ? '' : ', context'}${associatedData === undefined ? '' : ', associated data'}: ${Buffer.from(plaintext, 'base64').length} bytes`,
      key,
      plaintext,
      ...(context === undefined ? {} : { context }),
      ...(associatedData === undefined ? {} : { associatedData }),
      ciphertext,
      deterministic: key === 'convergent',
    });
  };
  const round = () => {
    encrypt('aes', b64('the quick brown fox'));
    encrypt('aes', '', undefined, b64('row 1'));
    encrypt('aes', ALL_BYTES.toString('base64'), undefined, b64('binary'));
    encrypt('chacha', b64('chacha plaintext'));
    encrypt('chacha', b64('chacha with aad'), undefined, b64('row 2'));
    encrypt('derived', b64('tenant value'), b64('tenant-acme'));
    encrypt('derived', b64('tenant value'), b64('tenant-globex'), b64('row 3'));
    encrypt('convergent', b64('4111 1111 1111 1111'), b64('tenant-acme'));
    encrypt('convergent', b64('4111 1111 1111 1111'), b64('tenant-acme'), b64('card'));
    for (const algorithm of ['sha2-256', 'sha2-512', 'sha3-256']) {
      const input = b64(`hmac input ${algorithm}`);
      const hmac = kms.hmac('aes', Buffer.from(input, 'base64'), { algorithm });
      hmacs.push({
        name: `aes ${algorithm} ${hmac.slice(0, 8)}`,
        key: 'aes',
        input,
        algorithm,
        keyVersion: Number(/^vault:v(\d+):/.exec(hmac)?.[1]),
        hmac,
      });
    }
    const input = b64('sign me');
    for (const [key, hashAlgorithm] of [
      ['ed', undefined],
      ['ec', 'sha2-256'],
      ['ec', 'sha2-384'],
    ] as const) {
      for (const marshalingAlgorithm of ['asn1', 'jws'] as const) {
        const { signature, keyVersion } = kms.sign(key, Buffer.from(input, 'base64'), {
          marshalingAlgorithm,
          ...(hashAlgorithm === undefined ? {} : { hashAlgorithm }),
        });
        signatures.push({
          name: `${key} v${keyVersion} ${hashAlgorithm ?? 'ed25519'} ${marshalingAlgorithm}`,
          key,
          input,
          ...(hashAlgorithm === undefined ? {} : { hashAlgorithm }),
          marshalingAlgorithm,
          keyVersion,
          signature,
          deterministic: key === 'ed',
        });
      }
    }
  };
  round();
  for (const key of kms.listKeys()) kms.rotate(key);
  round();
  kms.rotate('aes');
  encrypt('aes', b64('version three'));
  return {
    description:
      'Transit values (vault:v<N>:) of LocalKms and the server: every key restored from its backup must decrypt, verify and recompute these, forever. Never regenerate; see README.md.',
    kmsFile: { format: 'custos.kms.v1', keys: kms.listKeys().map((name) => kms.backup(name)) },
    ciphertexts,
    hmacs,
    signatures,
  };
}

/** The key types added after `transit-v1.json`: AES-128-GCM, RSA (OAEP, PSS, PKCS#1 v1.5), P-384, P-521. */
async function transitKeyTypeVectors(): Promise<TransitVectorFile> {
  const kms = new LocalKms({ now });
  const backup = { exportable: true, allowPlaintextBackup: true } as const;
  kms.createKey('aes128', { ...backup, type: 'aes128-gcm96' });
  kms.createKey('aes128-convergent', {
    ...backup,
    type: 'aes128-gcm96',
    derived: true,
    convergentEncryption: true,
  });
  kms.createKey('rsa2048', { ...backup, type: 'rsa-2048' });
  kms.createKey('rsa4096', { ...backup, type: 'rsa-4096' });
  kms.createKey('p384', { ...backup, type: 'ecdsa-p384' });
  kms.createKey('p521', { ...backup, type: 'ecdsa-p521' });
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const ciphertexts: TransitCiphertextVector[] = [];
  const signatures: TransitSignatureVector[] = [];
  const encrypt = (key: string, plaintext: string, context?: string, associatedData?: string) => {
    const { ciphertext, keyVersion } = kms.encrypt(key, Buffer.from(plaintext, 'base64'), {
      ...(context === undefined ? {} : { context: Buffer.from(context, 'base64') }),
      ...(associatedData === undefined
        ? {}
        : { associatedData: Buffer.from(associatedData, 'base64') }),
    });
    ciphertexts.push({
      name: `${key} v${keyVersion}${context === undefined ? '' : ', context'}${associatedData === undefined ? '' : ', associated data'}: ${Buffer.from(plaintext, 'base64').length} bytes`,
      key,
      plaintext,
      ...(context === undefined ? {} : { context }),
      ...(associatedData === undefined ? {} : { associatedData }),
      ciphertext,
      deterministic: key === 'aes128-convergent',
    });
  };
  type Signing = Pick<
    TransitSignatureVector,
    'hashAlgorithm' | 'signatureAlgorithm' | 'saltLength'
  >;
  const signWith = (key: string, options: Signing) => {
    const input = b64(`sign me with ${key}`);
    for (const marshalingAlgorithm of ['asn1', 'jws'] as const) {
      const { signature, keyVersion } = kms.sign(key, Buffer.from(input, 'base64'), {
        marshalingAlgorithm,
        ...options,
      });
      signatures.push({
        name: `${key} v${keyVersion} ${[options.signatureAlgorithm, options.hashAlgorithm, options.saltLength === undefined ? undefined : `salt ${options.saltLength}`].filter((x) => x !== undefined).join(' ') || 'defaults'} ${marshalingAlgorithm}`,
        key,
        input,
        ...options,
        marshalingAlgorithm,
        keyVersion,
        signature,
        deterministic: options.signatureAlgorithm === 'pkcs1v15',
      });
    }
  };
  const round = () => {
    encrypt('aes128', b64('the quick brown fox'));
    encrypt('aes128', '', undefined, b64('row 1'));
    encrypt('aes128', ALL_BYTES.toString('base64'), undefined, b64('binary'));
    encrypt('aes128-convergent', b64('4111 1111 1111 1111'), b64('tenant-acme'));
    encrypt('aes128-convergent', b64('4111 1111 1111 1111'), b64('tenant-acme'), b64('card'));
    encrypt('rsa2048', b64('a 32-byte data key, or near it..'));
    encrypt('rsa2048', ALL_BYTES.subarray(0, 190).toString('base64'));
    encrypt('rsa4096', b64('rsa-4096 plaintext'));
    signWith('rsa2048', {});
    signWith('rsa2048', {
      signatureAlgorithm: 'pss',
      hashAlgorithm: 'sha2-512',
      saltLength: 'hash',
    });
    signWith('rsa2048', { signatureAlgorithm: 'pss', saltLength: 20 });
    signWith('rsa2048', { signatureAlgorithm: 'pkcs1v15' });
    signWith('rsa4096', { signatureAlgorithm: 'pkcs1v15', hashAlgorithm: 'sha2-384' });
    signWith('rsa4096', { signatureAlgorithm: 'pss' });
    signWith('p384', {});
    signWith('p384', { hashAlgorithm: 'sha2-384' });
    signWith('p521', { hashAlgorithm: 'sha2-512' });
  };
  round();
  for (const key of kms.listKeys()) kms.rotate(key);
  round();
  return {
    description:
      'Transit values (vault:v<N>:) of the key types added after transit-v1.json, from LocalKms: every key restored from its backup must decrypt, verify and recompute these, forever. Never regenerate; see README.md.',
    kmsFile: { format: 'custos.kms.v1', keys: kms.listKeys().map((name) => kms.backup(name)) },
    ciphertexts,
    hmacs: [],
    signatures,
  };
}

async function barrierVectors(): Promise<BarrierVectorFile> {
  const { rootKey, keyShares } = await createRootKey(3, 2);
  const keyring = new Keyring({ now });
  keyring.createKey(BARRIER_KEY);
  const dir = await mkdtemp(join(tmpdir(), 'custos-vectors-'));
  const storage = await openStorage(join(dir, 'custos.db'));
  try {
    const store = createEntryStore(storage.db);
    const barrier = createBarrier(store, {
      keyring: () => keyring,
      reloadKeyring: async () => {},
    });
    const data: Record<string, unknown> = {
      'sys/policy/ops': { name: 'ops', rules: '{"path":{"secret/*":{"capabilities":["read"]}}}' },
      'logical/secret/data/app/db': { data: { password: 'correct horse battery staple' } },
    };
    for (const [path, value] of Object.entries(data)) await barrier.write(path, value);
    keyring.rotate(BARRIER_KEY);
    data['logical/secret/data/app/api'] = { data: { key: 'written under barrier key v2' } };
    await barrier.write('logical/secret/data/app/api', data['logical/secret/data/app/api']);
    const entries = [];
    for (const [path, value] of Object.entries(data)) {
      const stored = await store.get(path);
      entries.push({
        path,
        value: Buffer.from(stored?.value ?? []).toString('hex'),
        data: value,
      });
    }
    return {
      description:
        'Server seal and barrier storage: two of these unseal keys reproduce the root key, which opens the stored barrier keyring, which decrypts every entry at its path, forever. Never regenerate; see README.md.',
      unsealKeys: keyShares.map((share) => share.toString('base64')),
      threshold: 2,
      encryptedKeyring: encryptKeyring(rootKey, serializeKeyring(keyring)).toString('hex'),
      entries,
    };
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await writeOnce('envelope-v1.json', envelopeVectors);
await writeOnce('fields-v1.json', fieldVectors);
await writeOnce('blind-index-v2.json', blindIndexKeyVectors);
await writeOnce('transit-v1.json', transitVectors);
await writeOnce('barrier-v1.json', barrierVectors);
await writeOnce('transit-key-types-v1.json', transitKeyTypeVectors);
