import { characterClasses, shannonEntropy } from '../filters/entropy.js';
import { isPlaceholder, isReference } from '../filters/placeholders.js';
import { isProtectedValue } from '../filters/protected-values.js';
import type { Confidence } from './rule.js';
import type { SecretNameKind } from './secret-names.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILE_NAME =
  /\.(?:pem|key|crt|cer|der|json|ya?ml|txt|p12|pfx|jks|env|properties|ini|conf|cfg|toml|js|ts|py|rb|go|java|cs|php|sh|enc|gpg|asc|pub|html?|png|jpg|svg)$/i;
const DOTTED_REFERENCE = /^[A-Za-z_$][\w$]{0,24}(?:\.[A-Za-z_$][\w$]{0,24})+$/;
/**
 * A relative storage path of lower-case words (`secret/data/app/db`, `kv/prod/db-password`,
 * `transit/keys/orders-v2`): where a secret is kept, not the secret. Digits only end a segment or
 * make one up, so base64 with slashes (mixed case, digits inside words) never matches.
 */
const STORAGE_PATH =
  /^(?:[a-z]+(?:[-_.][a-z]+)*\d*|\d+)(?:\/(?:[a-z]+(?:[-_.][a-z]+)*\d*|\d+))+\/?$/;

/**
 * Whether a value assigned to a secret-looking name looks like a real secret, and how sure that
 * is; `null` for placeholders, references, hashes, ciphertexts, identifiers, paths, UUIDs,
 * numbers and low-entropy words. A relative storage path (`secret/data/app`) is a secret's
 * location unless the name says password: a password may be words and slashes.
 *
 * @example
 * ```ts
 * assessAssignedValue('s3cr3t-Pa55word!', 'password'); // "medium"
 * assessAssignedValue('changeme', 'password'); // null
 * ```
 */
export function assessAssignedValue(value: string, kind: SecretNameKind): Confidence | null {
  const minimum = kind === 'password' ? 8 : 12;
  if (value.length < minimum || value.length > 1000 || /\s/.test(value)) return null;
  if (isPlaceholder(value) || isReference(value) || isProtectedValue(value)) return null;
  if (UUID.test(value) || /^[\d.,:+-]+$/.test(value) || FILE_NAME.test(value)) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(?:\.{0,2}\/|~\/|[A-Za-z]:\\)/.test(value)) {
    return null;
  }
  if (value.includes('(') || DOTTED_REFERENCE.test(value)) return null;
  if (kind !== 'password' && STORAGE_PATH.test(value)) return null;
  if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(value)) return null; // an environment variable name
  if (/^[a-z]+(?:[-_][a-z]+)+$/.test(value)) return null; // kebab or snake words
  const entropy = shannonEntropy(value);
  if (/^[A-Za-z]+$/.test(value) && (value.length < 16 || entropy < 3.8)) return null;
  if (kind === 'password') {
    return entropy >= 2.5 && characterClasses(value) >= 2 ? 'medium' : null;
  }
  if (entropy < 3) return null;
  return entropy >= 3.5 && value.length >= 16 ? 'medium' : 'low';
}
