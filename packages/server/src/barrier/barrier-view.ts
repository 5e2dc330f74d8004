import { CustosError } from '@custos/core/errors';
import { scopedChangeFeed } from '../storage/change-feed.js';
import type { Barrier, BarrierWriter } from './barrier.js';

/** A `.` or `..` segment anywhere in a key (tested without splitting: no allocation per call). */
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;
/** A lone surrogate: UTF-8 encodes it as U+FFFD, so two keys would name one stored path. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a view may hold `key`: not absolute (`/…`), no `.` or `..` segment, no NUL, no lone
 * surrogate (`a\ud800` and `a\ufffd` are one path once encoded, which a cache keyed by the
 * string would hold twice). A lookup by a caller-given value (an accessor) asks this first, so
 * a key no view can hold reads as absent rather than as an error.
 *
 * @example
 * ```ts
 * isViewKey('policy/orders'); // true
 * isViewKey('../core/keyring'); // false
 * ```
 */
export function isViewKey(key: string): boolean {
  return (
    !key.startsWith('/') &&
    !DOT_SEGMENT.test(key) &&
    !key.includes('\0') &&
    !LONE_SURROGATE.test(key)
  );
}

/** The answer to a key outside the view; the text names no part of it (keys hold request values). */
const refused = (): Promise<never> =>
  Promise.reject(new CustosError('ERR_INVALID_REQUEST', 'invalid storage key'));

function viewOf(writer: BarrierWriter, prefix: string): BarrierWriter {
  // A key is checked and prefixed on the way through; nothing else is added per call. Methods,
  // not arrow functions: one view is made per transaction, and the CLI's bundle names every
  // function value created at run time (esbuild's keepNames), methods excepted.
  return {
    read<T>(key: string) {
      return isViewKey(key) ? writer.read<T>(prefix + key) : refused();
    },
    readLocked<T>(key: string) {
      return isViewKey(key) ? writer.readLocked<T>(prefix + key) : refused();
    },
    revision(key: string) {
      return isViewKey(key) ? writer.revision(prefix + key) : refused();
    },
    async listPaths(key: string) {
      if (!isViewKey(key)) return refused();
      return (await writer.listPaths(prefix + key)).map((path) => path.slice(prefix.length));
    },
    create(key: string, data: unknown) {
      return isViewKey(key) ? writer.create(prefix + key, data) : refused();
    },
    replace(key: string, data: unknown, revision: number) {
      return isViewKey(key) ? writer.replace(prefix + key, data, revision) : refused();
    },
    write(key: string, data: unknown) {
      return isViewKey(key) ? writer.write(prefix + key, data) : refused();
    },
    remove(key: string) {
      return isViewKey(key) ? writer.remove(prefix + key) : refused();
    },
  };
}

/**
 * The barrier as seen from `prefix` (an area of storage/layout.ts), as Vault's `BarrierView`:
 * every key is relative to the prefix, lists return keys relative to it, and nothing outside
 * it can be read, written or listed (a key that is absolute or has a `.` or `..` segment is
 * refused with `ERR_INVALID_REQUEST`). Values stay bound to their full storage path, so data
 * written before views existed reads the same.
 *
 * @example
 * ```ts
 * const transitStorage = barrierView(barrier, TRANSIT.prefix);
 * await transitStorage.read('policy/orders'); // storage path transit/policy/orders
 * await transitStorage.listPaths('policy/'); // ['policy/orders', …]
 * ```
 */
export function barrierView(barrier: Barrier, prefix: string): Barrier {
  if (!prefix.endsWith('/') || prefix.startsWith('/') || DOT_SEGMENT.test(prefix))
    throw new Error(`a barrier view needs a prefix ending in '/' (got ${JSON.stringify(prefix)})`);
  return {
    ...viewOf(barrier, prefix),
    transaction: (work) => barrier.transaction((tx) => work(viewOf(tx, prefix))),
    changes: scopedChangeFeed(barrier.changes, prefix),
    sealedCache: (area) => {
      if (!isViewKey(area)) throw new Error('a sealed cache needs a key prefix inside the view');
      const inner = barrier.sealedCache(prefix + area);
      // The key is judged whole, prefix and all, as every other call of the view judges it.
      return {
        read: (key) => (isViewKey(area + key) ? inner.read(key) : refused()),
        clear: inner.clear,
      };
    },
  };
}
