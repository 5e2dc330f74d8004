import { createRequire } from 'node:module';
import type pg from 'pg';

let loaded: typeof pg | undefined;

/**
 * The `pg` module, loaded at its first use: a server on SQLite never pays its memory.
 *
 * pg's stream module tells Cloudflare Workers apart as it loads: by `navigator.userAgent`
 * where there is a `navigator` (Node.js 21 and later define one), else by constructing a
 * `Response`, which on Node.js 20 loads Node's whole fetch implementation (undici, with its
 * WebAssembly HTTP parser held as a 65 KB string): ~1.7 MB of heap and ~6 MiB resident for the
 * life of a server that never uses it (issue #16, idle memory). So while pg loads, a process
 * without a `navigator` has one that says Node.js, as later versions have; the load is
 * synchronous (`require`), so no other code runs before it is removed.
 *
 * @example
 * ```ts
 * const pool = new (loadPg().Pool)({ connectionString });
 * ```
 */
export function loadPg(): typeof pg {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  if (Object.hasOwn(globalThis, 'navigator')) {
    loaded = require('pg') as typeof pg;
    return loaded;
  }
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: Object.freeze({ userAgent: `Node.js/${process.versions.node}` }),
  });
  try {
    loaded = require('pg') as typeof pg;
  } finally {
    Reflect.deleteProperty(globalThis, 'navigator');
  }
  return loaded;
}
