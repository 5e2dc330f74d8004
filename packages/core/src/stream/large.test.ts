import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backupKey, decryptIterable, encryptIterable } from './index.js';

const GiB = 1024 ** 3;
const BLOCK = 1 << 20;

/**
 * A multi-GiB backup, generated on the fly and never stored: encrypted and decrypted in one
 * pipeline, each plaintext piece compared with what was fed in, memory checked to stay flat.
 */
describe('backup streams: several GiB in constant memory', () => {
  it('round-trips 2 GiB + 1 byte, streamed', async () => {
    const total = 2 * GiB + 1;
    const block = randomBytes(BLOCK);
    // Successive blocks differ (a counter in the first bytes), so a repeated chunk would show.
    async function* source() {
      for (let sent = 0, n = 0; sent < total; n++) {
        const piece = Buffer.from(block.subarray(0, Math.min(BLOCK, total - sent)));
        if (piece.length >= 8) piece.writeDoubleBE(n, 0);
        sent += piece.length;
        yield piece;
      }
    }
    const key = backupKey(randomBytes(32));
    const plain = decryptIterable(encryptIterable(source(), { recipients: [key] }), {
      identities: [key],
    });
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    let received = 0;
    for await (const piece of plain) {
      const offset = received % BLOCK;
      const expected = Buffer.from(block.subarray(offset, offset + piece.length));
      const actual = Buffer.from(piece);
      // Chunks are 64 KiB, so each block's counter is at the start of a piece.
      if (offset === 0 && piece.length >= 8) {
        if (actual.readDoubleBE(0) !== received / BLOCK) {
          throw new Error(`block counter wrong at ${received}`);
        }
        actual.fill(0, 0, 8);
        expected.fill(0, 0, 8);
      }
      if (!actual.equals(expected)) throw new Error(`plaintext differs at byte ${received}`);
      received += piece.length;
      if (received % (256 * BLOCK) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    expect(received).toBe(total);
    // Flat memory: nothing near the 2 GiB streamed is held (generous bound for GC slack).
    expect(peakRss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  }, 600_000);
});
