/**
 * `@custos/core/internal/lazy-zod`: zod loaded at its first use, for schemas of input few
 * processes ever read (configuration sections, transit backups).
 *
 * Internal and unversioned: not part of the library's promise. Any release may change or remove
 * any of it; only `@custos/server` imports it.
 *
 * @example
 * ```ts
 * import { lazily, zod } from '@custos/core/internal/lazy-zod';
 * const schemas = lazily(() => ({ name: zod().string() }));
 * ```
 * @module
 */
export { lazily, zod } from '../lib/lazy-zod.js';
