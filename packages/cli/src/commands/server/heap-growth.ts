import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what a full collection left live, in percent,
 * for the process `custos server` runs in. V8's own factor rises to 4× while the program
 * allocates fast and collects cheaply, as a server under load does: with ~30 MiB live, KV writes
 * let the heap reach ~120 MiB before a full collection (objects that outlive two young
 * collections, such as cache entries replaced under load, pile up until then). At 1.5× it stays
 * near 45 MiB, for more frequent full collections of a small heap (docs/operations.md has the
 * measurements).
 */
export const SERVER_HEAP_GROWING_PERCENT = 50;

const FLAG = '--heap-growing-percent';

/**
 * Sets V8's heap growing factor for the server's process, unless the process was started with
 * one of its own (`node --heap-growing-percent=…`, or in `NODE_OPTIONS`), which is kept. Only
 * the `custos server` command calls it: a server embedded in an application leaves that
 * application's heap alone. Answers whether it set the factor.
 *
 * @example
 * ```ts
 * limitHeapGrowth(); // true: full collections once the heap is 1.5× what the last one kept
 * ```
 */
export function limitHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some(
    (arg) => arg === FLAG || arg.startsWith(`${FLAG}=`) || arg.startsWith('--heap_growing_percent'),
  );
  if (given) return false;
  setFlagsFromString(`${FLAG}=${SERVER_HEAP_GROWING_PERCENT}`);
  return true;
}
