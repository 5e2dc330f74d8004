import type { ListedFile } from './list-files.js';

/**
 * Claims the next file of a list that several threads share: `next` (an `Int32Array` over a
 * `SharedArrayBuffer`, the same in every thread) holds the index of the next unclaimed file,
 * advanced atomically, so each file goes to exactly one thread and a thread that scans faster
 * simply claims more. `undefined` once every file is claimed.
 *
 * @example
 * ```ts
 * const next = new Int32Array(new SharedArrayBuffer(4));
 * for (let file = claimFile(next, files); file !== undefined; file = claimFile(next, files)) {
 *   await scanFile(file, options);
 * }
 * ```
 */
export function claimFile(next: Int32Array, files: readonly ListedFile[]): ListedFile | undefined {
  const index = Atomics.add(next, 0, 1);
  return index < files.length ? files[index] : undefined;
}
