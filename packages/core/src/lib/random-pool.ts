import { randomBytes } from 'node:crypto';
import { startupSnapshot } from 'node:v8';

/** The block a pool starts with and returns to: the first `take` fills a real one. */
const EMPTY = Buffer.alloc(0);

/**
 * Hands out fresh random bytes from a pre-filled block. One `randomBytes(12)` call costs a few
 * microseconds, which is most of an AES-GCM encryption of a short value; drawing 12 bytes from
 * a 6 KiB block costs nanoseconds. Blocks are never refilled in place: every block is a new
 * buffer, so a slice handed out earlier can never change or be handed out twice.
 *
 * The first block is drawn at the first `take`, not at construction, and a pool drops its
 * block when a startup snapshot is written (`node --build-snapshot`, single executable
 * applications): otherwise every process started from the snapshot would hand out the same
 * bytes, and two processes would encrypt under the same AES-GCM nonces.
 */
export class RandomPool {
  readonly #blockSize: number;
  #block: Buffer = EMPTY;
  #offset = 0;

  constructor(blockSize = 6144) {
    this.#blockSize = blockSize;
    if (startupSnapshot.isBuildingSnapshot()) {
      startupSnapshot.addSerializeCallback(() => {
        this.#block = EMPTY;
        this.#offset = 0;
      });
    }
  }

  /** Returns `length` unused random bytes (a view into the current block). */
  take(length: number): Buffer {
    if (length > this.#blockSize) return randomBytes(length);
    if (this.#offset + length > this.#block.length) {
      this.#block = randomBytes(this.#blockSize);
      this.#offset = 0;
    }
    const out = this.#block.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }
}

/** The process-wide pool used for nonces: AEAD nonces and the security headers' CSP nonces. */
export const noncePool = new RandomPool();
