/**
 * `@custos/core`: every public concern, also reachable by subpath (`@custos/core/crypto`,
 * `@custos/core/secrets`, `@custos/core/fields`, `@custos/core/tokens`, `@custos/core/passwords`,
 * `@custos/core/api-keys`, `@custos/core/cookies`, `@custos/core/kms`, `@custos/core/client`, `@custos/core/duration`,
 * `@custos/core/errors`, `@custos/core/redaction`). Subpaths load only what they need; prefer them in applications.
 *
 * @example
 * ```ts
 * import { Keyring, Secret, isCustosError } from '@custos/core';
 * ```
 * @module
 */
export * from './api-keys/index.js';
export * from './client/index.js';
export * from './cookies/index.js';
export * from './crypto/index.js';
export * from './duration/index.js';
export * from './errors/index.js';
export * from './fields/index.js';
export * from './kms/index.js';
export * from './passwords/index.js';
export * from './redaction/index.js';
export * from './secrets/index.js';
export * from './tokens/index.js';
