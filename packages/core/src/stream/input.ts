import { readFileInPlace } from '../lib/file-pieces.js';

/** What the encrypting and decrypting functions read: a file path, or a byte stream (stdin). */
export type BackupInput = string | AsyncIterable<Uint8Array>;

/**
 * The bytes of `input`: a path is read in 1 MiB pieces into one reused buffer, which suits the
 * chunk sealers and openers (they are done with a piece before pulling the next).
 */
export function bytesOf(input: BackupInput): AsyncIterable<Uint8Array> {
  return typeof input === 'string' ? readFileInPlace(input) : input;
}
