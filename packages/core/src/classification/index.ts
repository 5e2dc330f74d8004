/**
 * Data classification: the classes a secret, a transit key or an encrypted column may carry
 * (`PHI`, `PII`, `credential`, `payment`, `internal`), by the `custom_metadata.data_class`
 * convention of the server and the `dataClass` option of an encrypted column (see
 * `docs/secrets.md`, "Data classification").
 *
 * @example
 * ```ts
 * import { parseDataClass } from '@custos/core/classification';
 * parseDataClass('phi', 'data_class'); // 'PHI'
 * ```
 * @module
 */
export {
  DATA_CLASS_KEY,
  DATA_CLASSES,
  type DataClass,
  dataClassOf,
  parseDataClass,
  withCanonicalDataClass,
} from './data-class.js';
