import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.js';
import {
  type BackupIdentity,
  type BackupRecipient,
  backupKey,
  decryptIterable,
  encryptIterable,
  inspectBackup,
  passphraseKey,
} from './index.js';

const KiB64 = 64 * 1024;
const SEALED = KiB64 + 16;
/** Every typed error a damaged backup may give; anything else (a TypeError, a hang) is a bug. */
const TAMPER_CODES = [
  'ERR_DECRYPTION_FAILED',
  'ERR_BACKUP_TRUNCATED',
  'ERR_MALFORMED_CIPHERTEXT',
  'ERR_BACKUP_KEY_MISMATCH',
];

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of source) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}
async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const encrypt = (data: Buffer, recipients: BackupRecipient[]) =>
  collect(encryptIterable(pieces(data, 10_000), { recipients }));

/** Decrypts, keeping what was released before the failure, and returns the error. */
async function failure(sealed: Buffer, identities: BackupIdentity[]) {
  const released: Buffer[] = [];
  try {
    for await (const piece of decryptIterable(pieces(sealed, 7000), { identities })) {
      released.push(Buffer.from(piece));
    }
  } catch (err) {
    return { err, released: Buffer.concat(released) };
  }
  throw new Error('the damaged backup decrypted without error');
}

/** Splits a backup into its header and sealed chunks. */
async function parts(sealed: Buffer) {
  const { headerLength } = await inspectBackup(pieces(sealed, 1000));
  const chunks: Buffer[] = [];
  for (let i = headerLength; i < sealed.length; i += SEALED)
    chunks.push(sealed.subarray(i, i + SEALED));
  return { header: sealed.subarray(0, headerLength), chunks };
}

describe('backup tampering: every change is detected with a typed error, nothing forged is released', () => {
  const key = backupKey(randomBytes(32));
  const data = randomBytes(3 * KiB64 + 1000); // four chunks, the last short

  const expectFailure = async (sealed: Buffer, code: string) => {
    const { err, released } = await failure(sealed, [key]);
    expect(err).toMatchObject({ code });
    // Only authentic chunks, in order, come out before the failure.
    expect(released.equals(data.subarray(0, released.length))).toBe(true);
    return released;
  };

  it('truncation at a chunk boundary and a dropped last chunk: ERR_BACKUP_TRUNCATED', async () => {
    const sealed = await encrypt(data, [key]);
    const { header, chunks } = await parts(sealed);
    expect(chunks).toHaveLength(4);
    for (let keep = 0; keep < 4; keep++) {
      const cut = Buffer.concat([header, ...chunks.slice(0, keep)]);
      const released = await expectFailure(cut, 'ERR_BACKUP_TRUNCATED');
      // A full chunk is held back until the next byte shows it is not the last.
      expect(released.length).toBe(Math.max(0, keep - 1) * KiB64);
    }
  });

  it('truncation inside a chunk or the header', async () => {
    const sealed = await encrypt(data, [key]);
    const { header } = await parts(sealed);
    await expectFailure(sealed.subarray(0, sealed.length - 1), 'ERR_DECRYPTION_FAILED');
    await expectFailure(sealed.subarray(0, header.length + 10), 'ERR_BACKUP_TRUNCATED');
    await expectFailure(sealed.subarray(0, header.length + 100), 'ERR_DECRYPTION_FAILED');
    await expectFailure(sealed.subarray(0, header.length + SEALED + 5), 'ERR_BACKUP_TRUNCATED');
    await expectFailure(sealed.subarray(0, header.length + SEALED + 100), 'ERR_DECRYPTION_FAILED');
    await expectFailure(sealed.subarray(0, header.length - 1), 'ERR_MALFORMED_CIPHERTEXT');
    await expectFailure(sealed.subarray(0, 5), 'ERR_MALFORMED_CIPHERTEXT');
    await expectFailure(Buffer.alloc(0), 'ERR_MALFORMED_CIPHERTEXT');
  });

  it('reordered, duplicated and appended chunks', async () => {
    const sealed = await encrypt(data, [key]);
    const { header, chunks } = await parts(sealed);
    const [c0, c1, c2, c3] = chunks as [Buffer, Buffer, Buffer, Buffer];
    await expectFailure(Buffer.concat([header, c1, c0, c2, c3]), 'ERR_DECRYPTION_FAILED');
    await expectFailure(Buffer.concat([header, c0, c0, c1, c2, c3]), 'ERR_DECRYPTION_FAILED');
    await expectFailure(Buffer.concat([header, c0, c1, c2, c2, c3]), 'ERR_DECRYPTION_FAILED');
    await expectFailure(Buffer.concat([header, c0, c1, c3]), 'ERR_DECRYPTION_FAILED');
    await expectFailure(Buffer.concat([sealed, Buffer.from([0])]), 'ERR_DECRYPTION_FAILED');
    await expectFailure(Buffer.concat([sealed, c3]), 'ERR_DECRYPTION_FAILED');
  });

  it('a chunk, or the whole payload, from another file under the same key', async () => {
    const sealed = await encrypt(data, [key]);
    const other = await encrypt(data, [key]);
    const mine = await parts(sealed);
    const theirs = await parts(other);
    const [c0, c1, c2, c3] = mine.chunks as [Buffer, Buffer, Buffer, Buffer];
    const swapped = Buffer.concat([mine.header, c0, theirs.chunks[1] as Buffer, c2, c3]);
    await expectFailure(swapped, 'ERR_DECRYPTION_FAILED');
    await expectFailure(Buffer.concat([mine.header, ...theirs.chunks]), 'ERR_DECRYPTION_FAILED');
    await expectFailure(Buffer.concat([theirs.header, c0, c1, c2, c3]), 'ERR_DECRYPTION_FAILED');
  });

  it('every single header byte changed', async () => {
    const sealed = await encrypt(Buffer.from('short'), [key]);
    const { header } = await parts(sealed);
    for (let i = 0; i < header.length; i++) {
      const copy = Buffer.from(sealed);
      copy[i] = (copy[i] as number) ^ 0x01;
      const { err, released } = await failure(copy, [key]);
      expect(isCustosError(err) && TAMPER_CODES.includes(err.code), `byte ${i}: ${err}`).toBe(true);
      expect(released.length).toBe(0);
    }
  });

  it('property: any byte flipped anywhere, in a backup of any size, is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 * KiB64 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 255 }),
        async (size, where, mask) => {
          const plain = randomBytes(size);
          const sealed = await encrypt(plain, [key]);
          const position = Math.floor(where * sealed.length);
          sealed[position] = (sealed[position] as number) ^ mask;
          const { err, released } = await failure(sealed, [key]);
          expect(isCustosError(err) && TAMPER_CODES.includes(err.code), String(err)).toBe(true);
          expect(released.equals(plain.subarray(0, released.length))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('property: any truncation is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 * KiB64 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        async (size, where) => {
          const plain = randomBytes(size);
          const sealed = await encrypt(plain, [key]);
          const { err, released } = await failure(
            sealed.subarray(0, Math.floor(where * sealed.length)),
            [key],
          );
          expect(isCustosError(err) && TAMPER_CODES.includes(err.code), String(err)).toBe(true);
          expect(released.equals(plain.subarray(0, released.length))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('an edited passphrase stanza cannot make decryption allocate absurd memory', async () => {
    const cheap = { memoryKiB: 19 * 1024, iterations: 2, parallelism: 1 };
    const sealed = await encrypt(Buffer.from('x'), [passphraseKey('pass', { parameters: cheap })]);
    // magic (8), version, chunk size, count, stanza type, length (2): the body starts at 14.
    for (const [offset, value] of [
      [14, 0xffffffff], // memory KiB
      [18, 1_000_000], // passes
    ] as const) {
      const copy = Buffer.from(sealed);
      copy.writeUInt32BE(value, offset);
      const { err } = await failure(copy, [passphraseKey('pass')]);
      expect(err).toMatchObject({
        code: 'ERR_MALFORMED_CIPHERTEXT',
        message: expect.stringMatching(/custos reads at most/),
      });
    }
  });
});

describe('backup format: stored vector', () => {
  // Written by this format's first release; it must open forever (see FORMAT.md).
  const key = backupKey(
    Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex'),
  );
  const vector = Buffer.from(
    '435553544f53424b011001030048885279a609bbf89f000067322db2d037a9b96847df79b49ce6a4fb9067bf15324f227335079e99d8147d7911803cb116ff43a62f6b036ba91bae8108eabb6f1b090c8e3becbe84f78892f403694aebc4bad4fd904d5653ccc9736bdf625ba928b1e7a92166acf15ec50c9870aaf6142d164a9d75da4d39856f8b5f3142bd848d08190c241fd97cc34d39a4425165735c8b13fd49664ae83ceeda7019a8e50ddbda0e6d7e7df28c5d6f380214',
    'hex',
  );

  it('decrypts to its plaintext, and names its key id', async () => {
    const plain = await collect(decryptIterable(pieces(vector, 64), { identities: [key] }));
    expect(plain.toString()).toBe('custos backup format v1 test vector\n');
    const info = await inspectBackup(pieces(vector, 64));
    expect(info.recipients).toEqual([
      { type: 'key', keyId: key.keyId, summary: `key file with key id ${key.keyId}` },
    ]);
  });
});
