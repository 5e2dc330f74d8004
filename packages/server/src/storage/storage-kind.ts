import type { DatabaseKind } from '../database/open-database.js';

/**
 * Which database holds the entries (the migrations differ only in column types and indexes).
 *
 * @example
 * ```ts
 * const blob: string = kind === 'postgres' ? 'bytea' : 'blob';
 * ```
 */
export type StorageKind = DatabaseKind;
