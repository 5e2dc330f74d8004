/**
 * Kysely integration (`kysely` is an optional peer dependency): a plugin that encrypts on write
 * and decrypts on read, plus the row helpers for anything the plugin cannot see.
 *
 * @example
 * ```ts
 * import { createFieldEncryptionPlugin } from '@custos/core/fields/kysely';
 * const db = new Kysely<DB>({ dialect, plugins: [createFieldEncryptionPlugin({ cipher: fc, tables })] });
 * ```
 * @module
 */
export { createRowCodec, type TableEncryption } from '../rows.js';
export { createFieldEncryptionPlugin, type FieldEncryptionPluginOptions } from './plugin.js';
