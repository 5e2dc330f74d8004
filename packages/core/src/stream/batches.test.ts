import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backupKey, decryptIterable, encryptIterable } from './index.js';

const KiB64 = 64 * 1024;
const SEALED = KiB64 + 16;
/** Chunks per batch (chunks.ts), and the batches done on the calling thread before a pool. */
const BATCH = 16;
const INLINE_BATCHES = 4;

/** The files under `dir` this process holds open (Linux: /proc/self/fd). */
function openIn(dir: string): string[] {
  const held: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) held.push(target);
    } catch {}
  }
  return held;
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of source) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}
async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('backup chunk batches: every size at chunk and batch boundaries, on and off the worker pool', () => {
  const key = backupKey(randomBytes(32));
  const encrypt = (data: Buffer, piece: number) =>
    collect(encryptIterable(pieces(data, piece), { recipients: [key] }));
  /** Decrypts, keeping what was released before a failure. */
  async function decrypt(sealed: Buffer, piece: number) {
    const released: Buffer[] = [];
    try {
      for await (const p of decryptIterable(pieces(sealed, piece), { identities: [key] })) {
        released.push(Buffer.from(p));
      }
    } catch (err) {
      return { err, released: Buffer.concat(released) };
    }
    return { err: undefined, released: Buffer.concat(released) };
  }
  const saved = process.env.CUSTOS_BACKUP_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.CUSTOS_BACKUP_THREADS;
    else process.env.CUSTOS_BACKUP_THREADS = saved;
  });

  const pooled = (INLINE_BATCHES + 3) * BATCH * KiB64; // a stream that reaches the pool
  const sizes = [
    0,
    1,
    KiB64 - 1,
    KiB64,
    KiB64 + 1,
    3 * KiB64,
    BATCH * KiB64 - 1,
    BATCH * KiB64,
    BATCH * KiB64 + 1,
    pooled - 1,
    pooled,
    pooled + 1,
  ];

  for (const threads of ['0', '2']) {
    it(`round-trips ${sizes.length} sizes around chunk and batch boundaries (threads: ${threads})`, async () => {
      process.env.CUSTOS_BACKUP_THREADS = threads;
      for (const size of sizes) {
        const data = randomBytes(size);
        const sealed = await encrypt(data, 300_001);
        const { err, released } = await decrypt(sealed, 77_777);
        expect(err).toBeUndefined();
        expect(released.equals(data), `size ${size}`).toBe(true);
      }
    });
  }

  it('in the pooled part of a stream: a flipped byte, swapped chunks and a cut at a chunk boundary are refused, only the authentic prefix released', async () => {
    process.env.CUSTOS_BACKUP_THREADS = '2';
    const data = randomBytes(pooled + 1000);
    const sealed = await encrypt(data, 1 << 20);
    const headerLength = sealed.length - (data.length + 16 * Math.ceil(data.length / KiB64));
    const chunkAt = (i: number) => headerLength + i * SEALED;
    const target = (INLINE_BATCHES + 1) * BATCH + 5; // inside a batch a worker opens

    const flipped = Buffer.from(sealed);
    flipped[chunkAt(target) + 100] = (flipped[chunkAt(target) + 100] as number) ^ 1;
    const a = await decrypt(flipped, 1 << 20);
    expect(a.err).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    expect(String((a.err as Error).message)).toContain(`chunk ${target + 1} `);
    expect(a.released.equals(data.subarray(0, target * KiB64))).toBe(true);

    const swapped = Buffer.concat([
      sealed.subarray(0, chunkAt(target)),
      sealed.subarray(chunkAt(target + 1), chunkAt(target + 2)),
      sealed.subarray(chunkAt(target), chunkAt(target + 1)),
      sealed.subarray(chunkAt(target + 2)),
    ]);
    const b = await decrypt(swapped, 65_536);
    expect(b.err).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    expect(b.released.equals(data.subarray(0, target * KiB64))).toBe(true);

    for (const cut of [target, (INLINE_BATCHES + 2) * BATCH]) {
      const c = await decrypt(sealed.subarray(0, chunkAt(cut)), 100_000);
      expect(c.err).toMatchObject({ code: 'ERR_BACKUP_TRUNCATED' });
      expect(c.released.equals(data.subarray(0, c.released.length))).toBe(true);
    }
  });

  it('a backup sealed on the pool opens on the calling thread, and the other way round', async () => {
    const data = randomBytes(pooled + 12_345);
    process.env.CUSTOS_BACKUP_THREADS = '2';
    const onPool = await encrypt(data, 1 << 20);
    process.env.CUSTOS_BACKUP_THREADS = '0';
    const here = await encrypt(data, 1 << 20);
    expect((await decrypt(onPool, 1 << 20)).released.equals(data)).toBe(true);
    process.env.CUSTOS_BACKUP_THREADS = '2';
    expect((await decrypt(here, 1 << 20)).released.equals(data)).toBe(true);
  });

  it('a consumer that stops early returns at once, even from a stream that has nothing more to give', async () => {
    process.env.CUSTOS_BACKUP_THREADS = '0';
    const data = randomBytes(3 * BATCH * KiB64);
    const sealed = await encrypt(data, 1 << 20);
    /** `bytes` in pieces, then a source that never answers again (a silent socket). */
    async function* thenSilent(bytes: Buffer): AsyncGenerator<Buffer> {
      yield* pieces(bytes, 1 << 16);
      await new Promise(() => {});
    }
    let sealedPieces = 0;
    for await (const _ of encryptIterable(thenSilent(data), { recipients: [key] })) {
      if (++sealedPieces === 3) break;
    }
    let opened = 0;
    for await (const _ of decryptIterable(thenSilent(sealed.subarray(0, sealed.length - 1)), {
      identities: [key],
    })) {
      if (++opened === 3) break;
    }
    expect([sealedPieces, opened]).toEqual([3, 3]);
  });

  describe('from a file path (read straight into the batch buffers, one batch ahead)', () => {
    let dir = '';
    afterEach(async () => {
      if (dir !== '') await rm(dir, { recursive: true, force: true });
      dir = '';
    });
    const file = async (name: string, bytes: Buffer) => {
      if (dir === '') dir = await mkdtemp(join(tmpdir(), 'custos-batches-'));
      const path = join(dir, name);
      await writeFile(path, bytes);
      return path;
    };
    async function decryptPath(path: string) {
      const released: Buffer[] = [];
      try {
        for await (const p of decryptIterable(path, { identities: [key] })) {
          released.push(Buffer.from(p));
        }
      } catch (err) {
        return { err, released: Buffer.concat(released) };
      }
      return { err: undefined, released: Buffer.concat(released) };
    }

    for (const threads of ['0', '2']) {
      it(`round-trips every size path to path, and path against stream both ways (threads: ${threads})`, async () => {
        process.env.CUSTOS_BACKUP_THREADS = threads;
        for (const size of [...sizes, 2 * BATCH * KiB64, 3 * BATCH * KiB64 + 7]) {
          const data = randomBytes(size);
          const fromPath = await collect(
            encryptIterable(await file('plain', data), { recipients: [key] }),
          );
          const opened = await decryptPath(await file('sealed', fromPath));
          expect(opened.err).toBeUndefined();
          expect(opened.released.equals(data), `size ${size}`).toBe(true);
          // The same format whichever way the bytes came in.
          expect((await decrypt(fromPath, 65_536)).released.equals(data)).toBe(true);
          const fromStream = await encrypt(data, 300_001);
          expect(fromStream.length).toBe(fromPath.length);
          const back = await decryptPath(await file('sealed', fromStream));
          expect(back.released.equals(data), `size ${size}`).toBe(true);
        }
      });
    }

    it('a file cut at a chunk or batch boundary, inside a chunk, or inside its header is refused; only the authentic prefix released', async () => {
      process.env.CUSTOS_BACKUP_THREADS = '0';
      const data = randomBytes(3 * BATCH * KiB64 + 1000);
      const sealed = await collect(encryptIterable(pieces(data, 1 << 20), { recipients: [key] }));
      const headerLength = sealed.length - (data.length + 16 * Math.ceil(data.length / KiB64));
      const chunkAt = (i: number) => headerLength + i * SEALED;
      for (const chunks of [1, BATCH, BATCH + 1, 2 * BATCH, 3 * BATCH]) {
        const cut = await decryptPath(await file('cut', sealed.subarray(0, chunkAt(chunks))));
        expect(cut.err, `cut after ${chunks} chunks`).toMatchObject({
          code: 'ERR_BACKUP_TRUNCATED',
        });
        expect(cut.released.equals(data.subarray(0, cut.released.length))).toBe(true);
      }
      const inside = await decryptPath(await file('cut', sealed.subarray(0, chunkAt(BATCH) + 99)));
      expect(inside.err).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
      const header = await decryptPath(await file('cut', sealed.subarray(0, headerLength - 1)));
      expect(header.err).toMatchObject({ code: 'ERR_MALFORMED_CIPHERTEXT' });
      const flipped = Buffer.from(sealed);
      flipped[chunkAt(2 * BATCH) + 5] = (flipped[chunkAt(2 * BATCH) + 5] as number) ^ 1;
      const bad = await decryptPath(await file('flipped', flipped));
      expect(bad.err).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
      expect(bad.released.equals(data.subarray(0, 2 * BATCH * KiB64))).toBe(true);
    });

    it('a named pipe is read on demand: a consumer that stops early returns while the writer is silent', async () => {
      process.env.CUSTOS_BACKUP_THREADS = '0';
      if (dir === '') dir = await mkdtemp(join(tmpdir(), 'custos-batches-'));
      const fifo = join(dir, 'pipe');
      execFileSync('mkfifo', [fifo]);
      const stream = encryptIterable(fifo, { recipients: [key] });
      await stream.next(); // the header: the pipe is opened with the first chunk
      const firstChunk = stream.next();
      const writer = await open(fifo, 'w');
      try {
        // Two batches and a few bytes, then silence with the pipe still open.
        await writer.write(randomBytes(2 * BATCH * KiB64 + 5));
        let seen = (await firstChunk).done ? 0 : 1;
        for await (const _ of stream) if (++seen === 3) break;
        expect(seen).toBe(3);
      } finally {
        await writer.close();
      }
    });

    it('a consumer that stops early leaves no read in flight and the file closed', async () => {
      const data = randomBytes(4 * BATCH * KiB64);
      const path = await file('plain', data);
      const sealed = encryptIterable(path, { recipients: [key] });
      let seen = 0;
      for await (const _ of sealed) if (++seen === 3) break;
      const sealedPath = await file(
        'sealed',
        await collect(encryptIterable(path, { recipients: [key] })),
      );
      let opened = 0;
      for await (const _ of decryptIterable(sealedPath, { identities: [key] }))
        if (++opened === 2) break;
      // The generators closed their files (and waited for any read in flight) as they returned.
      expect(openIn(dir)).toEqual([]);
      expect(seen).toBe(3);
      expect(opened).toBe(2);
    });
  });
});
