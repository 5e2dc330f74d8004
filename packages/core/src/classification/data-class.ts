import { CustosError } from '../errors/index.js';

/**
 * The data classes custos knows, in their canonical spelling (seeds 001 and 002): protected
 * health information, personally identifiable information, credentials, payment data, and
 * internal data that is none of these.
 *
 * @example
 * ```ts
 * DATA_CLASSES.includes('PHI'); // true
 * ```
 */
export const DATA_CLASSES = ['PHI', 'PII', 'credential', 'payment', 'internal'] as const;

/** A data class, canonically spelled. */
export type DataClass = (typeof DATA_CLASSES)[number];

/**
 * The `custom_metadata` key that carries a secret's or a transit key's data class.
 *
 * @example
 * ```ts
 * await client.request('POST', 'secret/metadata/app/db', {
 *   custom_metadata: { [DATA_CLASS_KEY]: 'PHI' },
 * });
 * ```
 */
export const DATA_CLASS_KEY = 'data_class';

const BY_LOWER_CASE = new Map<string, DataClass>(DATA_CLASSES.map((c) => [c.toLowerCase(), c]));

/**
 * The canonical data class `value` names, matched without regard to case (`phi`, `Phi` and `PHI`
 * are PHI); undefined for anything else, surrounding spaces included.
 *
 * @example
 * ```ts
 * dataClassOf('phi'); // 'PHI'
 * dataClassOf('secret'); // undefined
 * ```
 */
export function dataClassOf(value: unknown): DataClass | undefined {
  return typeof value === 'string' ? BY_LOWER_CASE.get(value.toLowerCase()) : undefined;
}

/**
 * Like {@link dataClassOf}, but an unknown class is an `ERR_INVALID_REQUEST` naming the allowed
 * ones (`where` says which field held it). The value itself is not repeated in the message.
 *
 * @example
 * ```ts
 * parseDataClass('Payment', 'custom_metadata.data_class'); // 'payment'
 * parseDataClass('top-secret', 'custom_metadata.data_class'); // throws ERR_INVALID_REQUEST
 * ```
 */
export function parseDataClass(value: unknown, where: string): DataClass {
  const found = dataClassOf(value);
  if (found === undefined) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      `${where} must be one of ${DATA_CLASSES.join(', ')} (any case)`,
    );
  }
  return found;
}

/**
 * A `custom_metadata` map with its `data_class` checked and canonically spelled (a copy; the
 * map itself is not changed). A map without one is returned as it is; a `null` (a merge patch
 * removing the class) is kept.
 *
 * @example
 * ```ts
 * withCanonicalDataClass({ data_class: 'phi', owner: 'care' }); // { data_class: 'PHI', owner: 'care' }
 * ```
 */
export function withCanonicalDataClass<T extends Readonly<Record<string, string | null>>>(
  customMetadata: T,
  where = `custom_metadata.${DATA_CLASS_KEY}`,
): T {
  if (!Object.hasOwn(customMetadata, DATA_CLASS_KEY)) return customMetadata;
  const value = customMetadata[DATA_CLASS_KEY];
  if (value === null) return customMetadata;
  return { ...customMetadata, [DATA_CLASS_KEY]: parseDataClass(value, where) };
}
