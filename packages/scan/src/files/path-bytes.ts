import { sep } from 'node:path';
import type { ListedFile } from './list-files.js';

const SEPARATOR = Buffer.from(sep);

/** `path` with `/` between its parts, whatever the platform's separator. */
export const toPosix = (path: string): string => (sep === '/' ? path : path.split(sep).join('/'));

/**
 * A path's bytes joined with a name's: paths are carried as bytes while files are listed, so a
 * name that is not UTF-8 is opened as it is (Node would decode it to `\uFFFD`, naming no file).
 *
 * @example
 * ```ts
 * joinBytes(Buffer.from('/repo'), Buffer.from([0x63, 0xe9])); // the bytes of /repo/c\xe9
 * ```
 */
export function joinBytes(dir: Buffer, name: Buffer | string): Buffer {
  const tail = typeof name === 'string' ? Buffer.from(name) : name;
  return dir.at(-1) === SEPARATOR[0]
    ? Buffer.concat([dir, tail])
    : Buffer.concat([dir, SEPARATOR, tail]);
}

/**
 * The path to open a listed file by: its exact bytes when its name is not UTF-8 (in a worker
 * thread they arrive as a plain `Uint8Array`), else its absolute path.
 *
 * @example
 * ```ts
 * const fd = openSync(readPath(file), 'r');
 * ```
 */
export function readPath(file: ListedFile): string | Buffer {
  const raw = file.rawPath;
  return raw === undefined
    ? file.absolute
    : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}
