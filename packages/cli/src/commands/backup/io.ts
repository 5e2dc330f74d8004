import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { CustosError } from '@custos/core/errors';

/** A named file in 1 MiB pieces, or standard input. */
export function inputOf(path: string | undefined): AsyncIterable<Uint8Array> | string {
  return path === undefined || path === '-' ? process.stdin : path;
}

/** The input as a byte stream (for the functions that take no path). */
export function streamOf(path: string | undefined): AsyncIterable<Uint8Array> {
  const input = inputOf(path);
  return typeof input === 'string' ? createReadStream(input, { highWaterMark: 1 << 20 }) : input;
}

/** Streams to standard output, refusing a terminal: a backup is binary and may be large. */
export async function toStdout(source: AsyncIterable<Uint8Array>, what: string): Promise<void> {
  if (process.stdout.isTTY) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `refusing to write ${what} to a terminal: pass --out <file> or redirect standard output`,
    );
  }
  await pipeline(source, process.stdout);
}
