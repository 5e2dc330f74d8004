import type { Barrier } from '../barrier/barrier.js';
import { barrierView } from '../barrier/barrier-view.js';
import { createKv1Engine, type Kv1Engine } from '../kv/kv1-engine.js';
import { TOKENS } from '../storage/layout.js';
import type { TokenEntry } from './token-entry.js';

/**
 * The cubbyhole of a token: KV version 1 storage only that token reaches, kept inside the
 * token store's area under the token's keyed hash, and removed with the token when it is
 * revoked or expires (`token-store.ts`).
 *
 * @example
 * ```ts
 * const cubbyholeOf = cubbyholes(barrier);
 * await cubbyholeOf(entry).write('note', { value: 'x' });
 * ```
 */
export function cubbyholes(barrier: Barrier): (entry: Pick<TokenEntry, 'hash'>) => Kv1Engine {
  return (entry) =>
    createKv1Engine(barrierView(barrier, `${TOKENS.prefix}${TOKENS.cubbyhole}${entry.hash}/`));
}
