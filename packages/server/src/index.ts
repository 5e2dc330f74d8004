/**
 * `@custos/server`: the sealed secret store and encryption-as-a-service server with a
 * Vault-compatible HTTP API. The server arrives with SPEC C3; this entry point fixes the
 * package's place in the build and its public door.
 *
 * @example
 * ```ts
 * import { serverVersion } from '@custos/server';
 * ```
 * @module
 */
import { createRequire } from 'node:module';

/** The version of this package, as published. */
export const serverVersion: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;
