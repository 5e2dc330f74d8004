import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';

let loaded: typeof Zod | undefined;

/**
 * zod, loaded by its first caller: only the configuration sections few servers have (alerts,
 * rotation) use it, and loading it at start holds some 3 MB of heap for the server's life.
 * Synchronous: zod ships CommonJS beside its ES modules.
 *
 * @example
 * ```ts
 * const schema = zod().object({ name: zod().string() });
 * ```
 */
export function zod(): typeof Zod {
  loaded ??= (createRequire(import.meta.url)('zod') as { z: typeof Zod }).z;
  return loaded;
}

/**
 * `make`'s value, made at the first call and kept (schemas built from {@link zod} when first
 * needed).
 *
 * @example
 * ```ts
 * const schemas = lazily(() => ({ name: zod().string() }));
 * schemas().name.parse('x');
 * ```
 */
export function lazily<T>(make: () => T): () => T {
  let made: { readonly value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
