/**
 * `@custos/core`: every public concern, also reachable by subpath (`@custos/core/crypto`,
 * `@custos/core/errors`, `@custos/core/redaction`).
 *
 * @example
 * ```ts
 * import { Keyring, Secret, isCustosError } from '@custos/core';
 * ```
 * @module
 */
export * from './crypto/index.js';
export * from './errors/index.js';
export * from './redaction/index.js';
