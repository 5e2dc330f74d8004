import { open } from 'node:fs/promises';

/**
 * Reads a file in pieces of `pieceSize` bytes into one reused buffer: no allocation (and no
 * fresh pages to fault in) per piece. Each piece is valid only until the next one is asked
 * for, so this suits consumers that are done with a piece before they pull the next (the
 * chunk sealers and openers, which copy what they keep), not ones that queue pieces.
 */
export async function* readFileInPlace(path: string, pieceSize = 1 << 20): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(pieceSize);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, pieceSize, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
