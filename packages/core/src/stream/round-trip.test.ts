import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadableStream } from 'node:stream/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../crypto/keyring.js';
import {
  type BackupIdentity,
  type BackupRecipient,
  backupKey,
  decryptFile,
  decryptIterable,
  decryptStream,
  decryptWebStream,
  encryptFile,
  encryptIterable,
  encryptStream,
  encryptWebStream,
  generateBackupIdentity,
  inspectBackup,
  keyringKey,
  passphraseKey,
  rekeyBackup,
  rekeyFile,
  verifyBackup,
  x25519Identity,
  x25519Recipient,
} from './index.js';

/** Argon2id at its floor: the tests exercise the format, not the cost. */
const CHEAP = { memoryKiB: 19 * 1024, iterations: 2, parallelism: 1 };
const KiB64 = 64 * 1024;
const SIZES = [0, 1, KiB64 - 1, KiB64, KiB64 + 1, 2 * KiB64, 3 * 1024 * 1024 + 17];

/** Buffer equality by memcmp (a deep-equality matcher walks megabytes byte by byte). */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected), 'the bytes differ').toBe(true);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of source) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}

/** Feeds `data` in pieces of `size` bytes, as a socket or a pipe would. */
async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const encrypt = (data: Buffer, recipients: BackupRecipient[], pieceSize = 8192) =>
  collect(encryptIterable(pieces(data, pieceSize), { recipients }));
const decrypt = (sealed: Buffer, identities: BackupIdentity[], pieceSize = 8192) =>
  collect(decryptIterable(pieces(sealed, pieceSize), { identities }));

describe('backup streams: round trips', () => {
  const { identity, recipient } = generateBackupIdentity();

  it.each(SIZES)(
    '%i bytes round-trip, whatever the piece sizes the stream arrives in',
    async (size) => {
      const data = randomBytes(size);
      for (const pieceSize of [1000, KiB64, KiB64 + 16, 1 << 20]) {
        const sealed = await encrypt(data, [x25519Recipient(recipient)], pieceSize);
        const chunks = Math.max(1, Math.ceil(size / KiB64));
        const header = sealed.length - size - 16 * chunks;
        expect(header).toBe((await inspectBackup(pieces(sealed, 100))).headerLength);
        expectSameBytes(await decrypt(sealed, [x25519Identity(identity)], pieceSize + 3), data);
      }
    },
  );

  it('seals each file under a fresh file key: the same input twice gives unrelated output', async () => {
    const data = Buffer.alloc(1000, 7);
    const key = backupKey(randomBytes(32));
    const [a, b] = [await encrypt(data, [key]), await encrypt(data, [key])];
    expect(a.subarray(-1016).equals(b.subarray(-1016))).toBe(false);
  });

  it('opens with any of several recipients of every kind', async () => {
    const keyring = new Keyring();
    keyring.createKey('backups');
    const second = generateBackupIdentity();
    const key = backupKey(randomBytes(32));
    const recipients = [
      x25519Recipient(recipient),
      x25519Recipient(second.recipient),
      key,
      passphraseKey('correct horse battery staple', { parameters: CHEAP }),
      keyringKey(keyring, 'backups'),
    ];
    const data = randomBytes(200_000);
    const sealed = await encrypt(data, recipients);
    const info = await inspectBackup(pieces(sealed, 50));
    expect(info.recipients.map((r) => r.type)).toEqual([
      'x25519',
      'x25519',
      'key',
      'passphrase',
      'keyring',
    ]);
    expect(info.recipients[0]).toMatchObject({ recipient });
    expect(info.recipients[2]).toMatchObject({ keyId: key.keyId });
    expect(info.recipients[3]).toMatchObject(CHEAP);
    expect(info.recipients[4]).toMatchObject({
      keyName: 'backups',
      keyId: keyring.info('backups').id,
      keyVersion: 1,
    });
    for (const identities of [
      [x25519Identity(second.identity)],
      [key],
      [passphraseKey('correct horse battery staple')],
      [keyringKey(keyring, 'backups')],
      [backupKey(randomBytes(32)), x25519Identity(identity)],
    ]) {
      expectSameBytes(await decrypt(sealed, identities), data);
    }
  });

  it('a rotated keyring still opens backups made under the older version', async () => {
    const keyring = new Keyring();
    keyring.createKey('backups');
    const sealed = await encrypt(Buffer.from('v1 data'), [keyringKey(keyring, 'backups')]);
    keyring.rotate('backups');
    expectSameBytes(
      await decrypt(sealed, [keyringKey(keyring, 'backups')]),
      Buffer.from('v1 data'),
    );
  });

  it('Node streams: pipeline through encryptStream and decryptStream', async () => {
    const data = randomBytes(500_000);
    const sealed: Buffer[] = [];
    await pipeline(
      Readable.from(pieces(data, 30_000)),
      encryptStream({ recipients: [x25519Recipient(recipient)] }),
      async (source: AsyncIterable<Buffer>) => {
        for await (const piece of source) sealed.push(piece);
      },
    );
    const plain: Buffer[] = [];
    await pipeline(
      Readable.from(pieces(Buffer.concat(sealed), 70_000)),
      decryptStream({ identities: [x25519Identity(identity)] }),
      async (source: AsyncIterable<Buffer>) => {
        for await (const piece of source) plain.push(piece);
      },
    );
    expectSameBytes(Buffer.concat(plain), data);
  });

  it('Node and web streams fail with the typed error on a damaged backup', async () => {
    const sealed = await encrypt(randomBytes(200_000), [x25519Recipient(recipient)]);
    sealed[sealed.length - 20] = (sealed[sealed.length - 20] as number) ^ 1;
    const identities = [x25519Identity(identity)];
    await expect(
      pipeline(
        Readable.from(pieces(sealed, 50_000)),
        decryptStream({ identities }),
        async (source: AsyncIterable<Buffer>) => {
          for await (const _ of source);
        },
      ),
    ).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    await expect(
      collect(decryptWebStream(ReadableStream.from(pieces(sealed, 50_000)), { identities })),
    ).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
  });

  it('web streams: encryptWebStream and decryptWebStream', async () => {
    const data = randomBytes(300_000);
    const webSource = ReadableStream.from(pieces(data, 40_000));
    const sealed = encryptWebStream(webSource, { recipients: [x25519Recipient(recipient)] });
    const plain = decryptWebStream(sealed, { identities: [x25519Identity(identity)] });
    expectSameBytes(await collect(plain), data);
  });

  it('rekey replaces the recipients and keeps the chunks byte for byte', async () => {
    const oldKey = backupKey(randomBytes(32));
    const next = generateBackupIdentity();
    const data = randomBytes(150_000);
    const sealed = await encrypt(data, [oldKey]);
    const rekeyed = await collect(
      rekeyBackup(pieces(sealed, 5000), {
        identities: [oldKey],
        recipients: [x25519Recipient(next.recipient)],
      }),
    );
    const oldHeader = (await inspectBackup(pieces(sealed, 99))).headerLength;
    const newHeader = (await inspectBackup(pieces(rekeyed, 99))).headerLength;
    expectSameBytes(rekeyed.subarray(newHeader), sealed.subarray(oldHeader));
    expectSameBytes(await decrypt(rekeyed, [x25519Identity(next.identity)]), data);
    await expect(decrypt(rekeyed, [oldKey])).rejects.toMatchObject({
      code: 'ERR_BACKUP_KEY_MISMATCH',
    });
    expect(
      (await verifyBackup(pieces(rekeyed, 4096), { identities: [x25519Identity(next.identity)] }))
        .plaintextBytes,
    ).toBe(data.length);
  });

  it('an encrypting stream draws nothing from its source until read, and stops with its consumer', async () => {
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield Buffer.alloc(KiB64);
      }
    }
    const stream = encryptIterable(endless(), { recipients: [backupKey(randomBytes(32))] });
    expect(pulled).toBe(0);
    let seen = 0;
    for await (const _ of stream) if (++seen === 10) break;
    // Chunks are sealed in batches of 16, and a batch waits until the next one is read (is it
    // the last?): two batches at most.
    expect(pulled).toBeLessThanOrEqual(2 * 16);
  });
});

describe('backup files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-backup-files-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('encryptFile / decryptFile / rekeyFile in place, outputs mode 0600', async () => {
    const { identity, recipient } = generateBackupIdentity();
    const data = randomBytes(1_000_000);
    await writeFile(join(dir, 'db.sql'), data);
    await encryptFile(join(dir, 'db.sql'), join(dir, 'db.cbk'), {
      recipients: [x25519Recipient(recipient)],
    });
    const key = backupKey(randomBytes(32));
    await rekeyFile(join(dir, 'db.cbk'), join(dir, 'db.cbk'), {
      identities: [x25519Identity(identity)],
      recipients: [key],
    });
    await decryptFile(join(dir, 'db.cbk'), join(dir, 'out.sql'), { identities: [key] });
    expectSameBytes(await readFile(join(dir, 'out.sql')), data);
    for (const file of ['db.cbk', 'out.sql']) {
      expect((await stat(join(dir, file))).mode & 0o777).toBe(0o600);
    }
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
