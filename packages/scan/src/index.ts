/**
 * `@custos/scan`: the secret scanner (files, directories, git history). The rules and the
 * scanner itself are not written yet; this entry point fixes the package's place in the build
 * and its public door.
 *
 * @example
 * ```ts
 * import { scannerVersion } from '@custos/scan';
 * ```
 * @module
 */
import { createRequire } from 'node:module';

/** The version of this package, as published. */
export const scannerVersion: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;
