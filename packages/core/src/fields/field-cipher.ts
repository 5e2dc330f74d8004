import { CustosError } from '../errors/index.js';
import {
  createKeyringFieldCipher,
  type KeyringFieldCipherOptions,
} from './keyring-field-cipher.js';
import { createKmsFieldCipher, type KmsFieldCipherOptions } from './kms-field-cipher.js';
import type { AsyncFieldCipher, FieldCipher } from './types.js';

/**
 * Creates a field cipher: typed values encrypted into text envelopes bound to their table,
 * column, row and tenant, blind indexes for equality lookups, and deterministic columns.
 *
 * - `{ keyring }`: keys from a local keyring; per-tenant keys derived with HKDF. Every method is
 *   synchronous.
 * - `{ kms }`: envelope encryption with per-tenant data keys generated and wrapped by a KMS
 *   (`createKeyringKms`, or the transit engine), unwrapped keys cached with size and time
 *   bounds. Methods return promises; pass a `keyring` too for deterministic columns and blind
 *   indexes.
 *
 * `await` the results to write code that works with both.
 *
 * @example
 * ```ts
 * import { loadKeyring } from '@custos/core/crypto';
 * import { createFieldCipher } from '@custos/core/fields';
 *
 * const fc = createFieldCipher({ keyring: loadKeyring(await readFile('keyring.json', 'utf8')) });
 * const ssn = fc.encrypt('078-05-1120', { table: 'patients', column: 'ssn', rowId: 42 });
 * fc.decrypt(ssn, { table: 'patients', column: 'ssn', rowId: 42 }); // '078-05-1120'
 * fc.decrypt(ssn, { table: 'patients', column: 'ssn', rowId: 43 }); // throws ERR_DECRYPTION_FAILED
 * const lookup = fc.blindIndex('Jane@Example.com', { table: 'patients', column: 'email', normalize: true });
 * ```
 */
export function createFieldCipher(options: KeyringFieldCipherOptions): FieldCipher;
export function createFieldCipher(options: KmsFieldCipherOptions): AsyncFieldCipher;
export function createFieldCipher(
  options: KeyringFieldCipherOptions | KmsFieldCipherOptions,
): FieldCipher | AsyncFieldCipher {
  if (typeof options !== 'object' || options === null) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'createFieldCipher needs { keyring } or { kms }');
  }
  if ('kms' in options && options.kms !== undefined) return createKmsFieldCipher(options);
  if ('keyring' in options && options.keyring !== undefined) {
    return createKeyringFieldCipher(options as KeyringFieldCipherOptions);
  }
  throw new CustosError('ERR_INVALID_ARGUMENT', 'createFieldCipher needs { keyring } or { kms }');
}
