/**
 * The KMS stanza (type 6): the file key wrapped under a data key of any FieldKms, bound to
 * `{ purpose: 'custos-backup', file }`. Here on a LocalKms (the in-process transit engine, as
 * `KMS_PROVIDER=local` opens it) and a keyring KMS; the AWS, PKCS#11, Azure and Google
 * providers are exercised in their own suites (server compat, pkcs11, contract tests).
 */
import { randomBytes } from 'node:crypto';
import { readVectorFile, type TransitVectorFile } from '@custos/test-support/vectors';
import { describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/index.js';
import { isCustosError } from '../errors/index.js';
import { createCachingKms, createKeyringKms, type FieldKms } from '../fields/index.js';
import { localKmsDataKeys } from '../kms/field-data-keys.js';
import { LocalKms } from '../kms/local-kms.js';
import { parseHeader } from './format.js';
import {
  type BackupIdentity,
  type BackupRecipient,
  decryptIterable,
  encryptIterable,
  generateBackupIdentity,
  inspectBackup,
  kmsIdentity,
  kmsRecipient,
  passphraseKey,
  rekeyBackup,
  x25519Identity,
  x25519Recipient,
} from './index.js';

const CHEAP = { memoryKiB: 19 * 1024, iterations: 2, parallelism: 1 };
/** A version-1 backup with one KMS stanza (local KMS key `aes`), written by this stanza's first release. */
const STORED_KMS_VECTOR =
  '435553544f53424b0110010600b6056c6f63616c0003616573b63201fe0f7f2f9c5a98634765c5e5007eae2e69b36fa1573b409acfa17cb51500597661756c743a76333a75736b38736d4d41646356766f3579656e726f344d72797a737443445546416f6f582f32474c386e4b7534564f723338575561714b4565594d6668516e474e6672586633376c4a3745524577446262470350e86d6300b50a771a00f72baea2d158e17955848c1e2671ebcf5877031144f204e5da18e6b822516d4c5e12e82f003e07a29329efbb26fc1f6fae0b412eca3aa0609d61a048f5a0ed4518035b52a782ff497d95f7e1b311d7541b77b2b9622a9ed1ea9838e0a39b722372f7502df8a2d375b9dfb355bc5eb3185efec5ccf20a2a29910ab1ff3443b36e27f081a74693222daf63e5cbcdb1e122b9edd9fb';
const CANARY = `CANARY-kms-backup-${randomBytes(6).toString('hex')}`;

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of source) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}
async function* pieces(data: Buffer, size = 9000): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const encrypt = (data: Buffer, recipients: BackupRecipient[]) =>
  collect(encryptIterable(pieces(data), { recipients }));
const decrypt = (sealed: Buffer, identities: BackupIdentity[]) =>
  collect(decryptIterable(pieces(sealed), { identities }));

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    if (!isCustosError(err)) throw err;
    const text = `${err.message}\n${err.stack}\n${String((err as { cause?: unknown }).cause)}`;
    expect(text).not.toContain(CANARY);
    return err;
  }
  throw new Error('expected a refusal');
}

/** The stanzas of a sealed file, and where each body starts in it. */
async function stanzasOf(sealed: Buffer) {
  let at = 0;
  const header = await parseHeader(async (n) => {
    const bytes = sealed.subarray(at, at + n);
    at += n;
    return bytes;
  });
  let offset = 11;
  return header.stanzas.map((stanza) => {
    const start = offset + 3;
    offset = start + stanza.body.length;
    return { ...stanza, start };
  });
}

/** Offsets inside a KMS stanza body (see FORMAT.md). */
function kmsLayout(body: Buffer) {
  const provider = 1;
  const referenceLength = provider + (body[0] as number);
  const reference = referenceLength + 2;
  const fileId = reference + body.readUInt16BE(referenceLength);
  const salt = fileId + 16;
  const wrappedLength = salt + 16;
  const wrapped = wrappedLength + 2;
  const fileKey = wrapped + body.readUInt16BE(wrappedLength);
  return { provider, reference, fileId, salt, wrapped, fileKey };
}

function localKms(...names: string[]) {
  const local = new LocalKms();
  for (const name of names) local.createKey(name);
  return local;
}

describe('backup KMS stanza on a local KMS', () => {
  const local = localKms('backups', 'fields', 'other');
  const kms = localKmsDataKeys(local, 'backups');
  const plain = Buffer.concat([Buffer.from(CANARY), randomBytes(150_000)]);

  it('round-trips, mixed with X25519 and passphrase recipients, each opening alone', async () => {
    const x = generateBackupIdentity();
    const passphrase = `pass-${randomBytes(6).toString('hex')}`;
    const sealed = await encrypt(plain, [
      x25519Recipient(x.recipient),
      kmsRecipient(kms, 'local'),
      passphraseKey(passphrase, { parameters: CHEAP }),
    ]);
    expect(sealed.includes(Buffer.from(CANARY))).toBe(false);
    expect(await decrypt(sealed, [kmsIdentity('local', kms)])).toEqual(plain);
    expect(await decrypt(sealed, [x25519Identity(x.identity)])).toEqual(plain);
    expect(await decrypt(sealed, [passphraseKey(passphrase)])).toEqual(plain);

    const info = await inspectBackup(pieces(sealed));
    expect(info.recipients.map((r) => r.type)).toEqual(['x25519', 'kms', 'passphrase']);
    expect(info.recipients[1]).toEqual({
      type: 'kms',
      provider: 'local',
      keyReference: 'backups',
      fileId: expect.stringMatching(/^[0-9a-f]{32}$/),
      summary: 'local KMS file key "backups" (KMS_PROVIDER=local)',
    });
  });

  it('an empty file, and each file its own file id', async () => {
    const a = await encrypt(Buffer.alloc(0), [kmsRecipient(kms, 'local')]);
    const b = await encrypt(Buffer.alloc(0), [kmsRecipient(kms, 'local')]);
    expect(await decrypt(a, [kmsIdentity('local', kms)])).toEqual(Buffer.alloc(0));
    const idOf = async (sealed: Buffer) => {
      const [r] = (await inspectBackup(pieces(sealed))).recipients;
      return r?.type === 'kms' ? r.fileId : undefined;
    };
    expect(await idOf(a)).not.toBe(await idOf(b));
  });

  it('the data key is bound to the backup purpose and file: never a field data key', async () => {
    const sealed = await encrypt(plain, [kmsRecipient(kms, 'local')]);
    const [stanza] = await stanzasOf(sealed);
    const body = (stanza as { body: Buffer }).body;
    const at = kmsLayout(body);
    const wrapped = body.toString('latin1', at.wrapped, at.fileKey);
    const fileId = body.toString('hex', at.fileId, at.fileId + 16);
    expect(wrapped).toMatch(/^vault:v1:/);
    // The field cipher's contexts (no tenant, a tenant) do not open it…
    for (const context of [{}, { tenantId: fileId }, { tenantId: 'backups' }]) {
      expect((await failure(kms.unwrapDataKey(wrapped, context))).code).toBe(
        'ERR_DECRYPTION_FAILED',
      );
    }
    // …nor another file's id.
    const other = randomBytes(16).toString('hex');
    expect((await failure(kms.unwrapDataKey(wrapped, { backupFileId: other }))).code).toBe(
      'ERR_DECRYPTION_FAILED',
    );
    // A field data key put in the stanza does not open as the backup's.
    const field = await kms.generateDataKey({});
    const swapped = Buffer.concat([
      body.subarray(0, at.wrapped - 2),
      Buffer.from([0, field.wrapped.length]),
      Buffer.from(field.wrapped, 'latin1'),
      body.subarray(at.fileKey),
    ]);
    const forged = await replaceStanza(sealed, 0, swapped);
    expect((await failure(decrypt(forged, [kmsIdentity('local', kms)]))).code).toBe(
      'ERR_DECRYPTION_FAILED',
    );
    // The two contexts cannot be mixed in one request.
    await expect(kms.generateDataKey({ tenantId: 1, backupFileId: fileId })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(kms.generateDataKey({ backupFileId: 'ABC' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('a stanza moved into another file is refused', async () => {
    const x = generateBackupIdentity();
    const a = await encrypt(plain, [kmsRecipient(kms, 'local'), x25519Recipient(x.recipient)]);
    const b = await encrypt(plain, [kmsRecipient(kms, 'local'), x25519Recipient(x.recipient)]);
    const [fromA] = await stanzasOf(a);
    const moved = await replaceStanza(b, 0, (fromA as { body: Buffer }).body);
    const err = await failure(decrypt(moved, [kmsIdentity('local', kms)]));
    expect(err.code).toBe('ERR_DECRYPTION_FAILED');
    expect(err.message).toMatch(/header/);
    // The file itself is fine for its other recipient? No: its header changed, so it fails too.
    expect((await failure(decrypt(moved, [x25519Identity(x.identity)]))).code).toBe(
      'ERR_DECRYPTION_FAILED',
    );
  });

  it('every edit of the stanza is refused with a typed error', async () => {
    const sealed = await encrypt(plain, [kmsRecipient(kms, 'local')]);
    const [stanza] = await stanzasOf(sealed);
    const { body, start } = stanza as { body: Buffer; start: number };
    const at = kmsLayout(body);
    const flip = (offset: number) => {
      const copy = Buffer.from(sealed);
      copy[start + offset] = (copy[start + offset] as number) ^ 0x01;
      return copy;
    };
    const identities = [kmsIdentity('local', kms)];
    // The provider edited ('local' → 'locam'): not this identity's stanza…
    const provider = await failure(decrypt(flip(at.reference - 3), identities));
    expect(provider.code).toBe('ERR_BACKUP_KEY_MISMATCH');
    expect(provider.message).toMatch(/KMS_PROVIDER=locam/);
    // …and for an identity of that provider over the same KMS, the wrapping fails.
    expect((await failure(decrypt(flip(at.reference - 3), [kmsIdentity('locam', kms)]))).code).toBe(
      'ERR_DECRYPTION_FAILED',
    );
    // The key reference edited: another key, which this KMS does not hold under that name.
    const reference = await failure(decrypt(flip(at.reference), identities));
    expect(reference.code).toBe('ERR_BACKUP_KEY_MISMATCH');
    expect(reference.message).toMatch(/local KMS file key "cackups"/);
    // Renamed to a key the KMS does hold: its data key does not open under it.
    const renamed = await replaceStanza(
      sealed,
      0,
      Buffer.concat([
        body.subarray(0, at.reference - 2),
        Buffer.from([0, 5]),
        Buffer.from('other'),
        body.subarray(at.fileId),
      ]),
    );
    expect(
      (await failure(decrypt(renamed, [kmsIdentity('local', localKmsDataKeys(local, 'other'))])))
        .code,
    ).toBe('ERR_DECRYPTION_FAILED');
    // The file id, the salt, the wrapped data key and the wrapped file key.
    for (const offset of [at.fileId, at.fileId + 15, at.salt, at.wrapped + 12, at.fileKey + 3]) {
      const err = await failure(decrypt(flip(offset), identities));
      expect(['ERR_DECRYPTION_FAILED', 'ERR_MALFORMED_CIPHERTEXT']).toContain(err.code);
    }
    // Lengths that no longer add up.
    for (const offset of [0, at.reference - 1, at.wrapped - 1]) {
      expect((await failure(decrypt(flip(offset), identities))).code).toBe(
        'ERR_MALFORMED_CIPHERTEXT',
      );
    }
  });

  it('a file without KMS stanza never opens the KMS; a missing provider is named', async () => {
    const x = generateBackupIdentity();
    const sealed = await encrypt(plain, [x25519Recipient(x.recipient)]);
    let opened = 0;
    const lazy = kmsIdentity('aws', () => {
      opened++;
      return kms;
    });
    expect(await decrypt(sealed, [lazy, x25519Identity(x.identity)])).toEqual(plain);
    expect(opened).toBe(0);

    const kmsOnly = await encrypt(plain, [kmsRecipient(kms, 'local')]);
    const err = await failure(decrypt(kmsOnly, [lazy, x25519Identity(x.identity)]));
    expect(err.code).toBe('ERR_BACKUP_KEY_MISMATCH');
    expect(err.message).toContain('local KMS file key "backups" (KMS_PROVIDER=local)');
    expect(opened).toBe(0);
  });

  it('rekey moves a file to a KMS and keeps its file id; the KMS refusal is typed', async () => {
    const x = generateBackupIdentity();
    const sealed = await encrypt(plain, [x25519Recipient(x.recipient), kmsRecipient(kms, 'local')]);
    const rekeyed = await collect(
      rekeyBackup(pieces(sealed), {
        identities: [x25519Identity(x.identity)],
        recipients: [kmsRecipient(kms, 'local')],
      }),
    );
    expect(await decrypt(rekeyed, [kmsIdentity('local', kms)])).toEqual(plain);
    const ids = async (file: Buffer) =>
      (await inspectBackup(pieces(file))).recipients.flatMap((r) =>
        r.type === 'kms' ? [r.fileId] : [],
      );
    expect(await ids(rekeyed)).toEqual(await ids(sealed));

    local.setState('backups', 'pending_deletion');
    try {
      const err = await failure(decrypt(rekeyed, [kmsIdentity('local', kms)]));
      expect(err.code).toBe('ERR_KEY_DISABLED');
    } finally {
      local.setState('backups', 'inactive');
      local.setState('backups', 'active');
    }
  });

  it('a stanza its KMS refuses does not hide another that opens (two keys of one name)', async () => {
    // The same key name on two KMSs (two regions): the reader reaches only the second.
    const elsewhere = localKmsDataKeys(localKms('backups'), 'backups');
    const sealed = await encrypt(plain, [
      kmsRecipient(elsewhere, 'local'),
      kmsRecipient(kms, 'local'),
    ]);
    expect(await decrypt(sealed, [kmsIdentity('local', kms)])).toEqual(plain);
    // Alone, the refusal is what is reported (not a vague mismatch).
    const only = await encrypt(plain, [kmsRecipient(elsewhere, 'local')]);
    expect((await failure(decrypt(only, [kmsIdentity('local', kms)]))).code).toBe(
      'ERR_DECRYPTION_FAILED',
    );
    // And an edit of any stanza still fails the file, whichever stanza opens it.
    const [first] = await stanzasOf(sealed);
    const edited = Buffer.from(sealed);
    const at =
      (first as { start: number; body: Buffer }).start +
      (first as { body: Buffer }).body.length -
      1;
    edited[at] = (edited[at] as number) ^ 0x01;
    const err = await failure(decrypt(edited, [kmsIdentity('local', kms)]));
    expect(err.code).toBe('ERR_DECRYPTION_FAILED');
    expect(err.message).toMatch(/header/);
  });

  it('shows a key reference with control or bidi characters escaped', async () => {
    // A KMS whose key names allow anything (a PKCS#11 label may): what a crafted header could say.
    const sneaky = 'backups\u001b[2J\u202e\n';
    const odd: FieldKms = {
      ...kms,
      describeWrappedKey: (wrapped) => ({ ...kms.describeWrappedKey(wrapped), keyId: sneaky }),
    };
    const sealed = await encrypt(plain, [kmsRecipient(odd, 'local')]);
    const [info] = (await inspectBackup(pieces(sealed))).recipients;
    expect(info?.summary).toBe(
      'local KMS file key "backups\\u001b[2J\\u202e\\n" (KMS_PROVIDER=local)',
    );
    expect(info?.type === 'kms' && info.keyReference).toBe(sneaky);
    expect(await decrypt(sealed, [kmsIdentity('local', odd)])).toEqual(plain);
  });

  it('a caching KMS still gives each file its own data key', async () => {
    const cached = createCachingKms(kms);
    const seen = new Set<string>();
    const recording: FieldKms = {
      ...cached,
      async generateDataKey(context) {
        const key = await cached.generateDataKey(context);
        seen.add(key.wrapped);
        return key;
      },
    };
    await cached.generateDataKey({});
    const a = await encrypt(plain, [kmsRecipient(recording, 'local')]);
    const b = await encrypt(plain, [kmsRecipient(recording, 'local')]);
    expect(seen.size).toBe(2);
    expect(await decrypt(a, [kmsIdentity('local', cached)])).toEqual(plain);
    expect(await decrypt(b, [kmsIdentity('local', kms)])).toEqual(plain);
  });

  it('names a provider it does not know by its name (even one named like an object property)', async () => {
    for (const provider of ['constructor', 'tostring', 'hsm-7']) {
      const sealed = await encrypt(Buffer.alloc(10), [kmsRecipient(kms, provider)]);
      const [info] = (await inspectBackup(pieces(sealed))).recipients;
      expect(info?.summary).toBe(`${provider} KMS key "backups" (KMS_PROVIDER=${provider})`);
    }
  });

  it('refuses a bad provider name', () => {
    for (const bad of ['', 'AWS', 'a b', 'x'.repeat(33)]) {
      expect(() => kmsRecipient(kms, bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
      expect(() => kmsIdentity(bad, kms)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

function newKeyring() {
  const keyring = new Keyring();
  keyring.createKey('backups');
  return keyring;
}

describe('backup KMS stanza on a keyring KMS', () => {
  it('round-trips; another keyring does not open it', async () => {
    const keyring = newKeyring();
    const kms = createKeyringKms(keyring, { keyName: 'backups' });
    const plain = randomBytes(70_000);
    const sealed = await encrypt(plain, [kmsRecipient(kms, 'keyring')]);
    expect(await decrypt(sealed, [kmsIdentity('keyring', kms)])).toEqual(plain);
    const info = await inspectBackup(pieces(sealed));
    expect(info.recipients[0]?.summary).toBe(
      `keyring KMS key ${JSON.stringify(keyring.info('backups').id)} (KMS_PROVIDER=keyring)`,
    );
    const stranger = createKeyringKms(newKeyring(), { keyName: 'backups' });
    expect((await failure(decrypt(sealed, [kmsIdentity('keyring', stranger)]))).code).toBe(
      'ERR_DECRYPTION_FAILED',
    );
  });
});

describe('backup KMS stanza: stored vector', () => {
  // Written once for the local KMS key `aes` of the stored transit vectors
  // (packages/test-support/vectors/transit-v1.json); it must open forever (see FORMAT.md).
  const vector = Buffer.from(STORED_KMS_VECTOR, 'hex');

  it('decrypts to its plaintext with the stored KMS file', async () => {
    const file = readVectorFile<TransitVectorFile>('transit-v1.json');
    const local = LocalKms.fromText(JSON.stringify(file.kmsFile));
    const kms = localKmsDataKeys(local, 'aes');
    const plain = await decrypt(vector, [kmsIdentity('local', kms)]);
    expect(plain.toString()).toBe('custos backup format v1 KMS stanza test vector\n');
    const info = await inspectBackup(pieces(vector));
    expect(info.recipients).toEqual([
      {
        type: 'kms',
        provider: 'local',
        keyReference: 'aes',
        fileId: expect.stringMatching(/^[0-9a-f]{32}$/),
        summary: 'local KMS file key "aes" (KMS_PROVIDER=local)',
      },
    ]);
  });
});

/** `sealed` with stanza `index`'s body replaced (its length updated; the MAC left as it was). */
async function replaceStanza(sealed: Buffer, index: number, body: Buffer): Promise<Buffer> {
  const stanzas = await stanzasOf(sealed);
  const target = stanzas[index] as { body: Buffer; start: number };
  const head = Buffer.from(sealed.subarray(target.start - 3, target.start));
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([
    sealed.subarray(0, target.start - 3),
    head,
    body,
    sealed.subarray(target.start + target.body.length),
  ]);
}
