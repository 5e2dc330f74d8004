import { CustosError } from '@custos/core/errors';
import type { CreateTransitKeyOptions } from '@custos/core/kms';
import { optionalBool } from '../http/fields.js';

/** The key types an encrypt may create: a key it can encrypt with. */
const UPSERT_TYPES = ['aes256-gcm96', 'chacha20-poly1305', 'aes128-gcm96'] as const;

/**
 * Creation settings an encrypt never carries. Encrypting to a missing key creates it, as in
 * Vault, from whoever may encrypt — so it must not choose how the key may leave (`exportable`,
 * `allow_plaintext_backup`: one way, never turned off), outlive a revocation
 * (`decrypt_after_revocation`) or anything else an operator sets at `transit/keys/:name`.
 */
const CREATION_ONLY = [
  'derived',
  'exportable',
  'allow_plaintext_backup',
  'purpose',
  'expires_at',
  'auto_rotate_period',
  'rotate_after_encryptions',
  'decrypt_after_revocation',
] as const;

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * Refuses an encrypt request (body or any `batch_input` item) that names a creation-only
 * setting, whether or not the key exists: the request never silently means something else.
 *
 * @example
 * ```ts
 * refuseCreationSettings(body, items); // throws for { exportable: true, plaintext }
 * ```
 */
export function refuseCreationSettings(
  body: Record<string, unknown>,
  items: readonly Record<string, unknown>[],
): void {
  const named = CREATION_ONLY.filter((field) =>
    [body, ...items].some((item) => item[field] !== undefined),
  );
  if (named.length > 0) {
    throw invalid(
      `encrypt does not take ${named.join(', ')}: create the key with these settings at transit/keys/:name first (an encrypt creates a missing key from type and convergent_encryption only, deriving when a context is given)`,
    );
  }
}

/**
 * The settings of a key an encrypt creates, as Vault's upsert honours them: `type` (an
 * encryption type), `convergent_encryption`, and derivation when the request carries a context;
 * every other setting takes its default.
 *
 * @example
 * ```ts
 * await transit.createKey(name, upsertOptions(body, items));
 * ```
 */
export function upsertOptions(
  body: Record<string, unknown>,
  items: readonly Record<string, unknown>[],
): CreateTransitKeyOptions {
  const type = body.type ?? 'aes256-gcm96';
  if (!(UPSERT_TYPES as readonly unknown[]).includes(type))
    throw invalid(
      `encrypt creates only encryption keys: type must be ${UPSERT_TYPES.slice(0, -1).join(', ')} or ${UPSERT_TYPES.at(-1)}`,
    );
  const derived = [body, ...items].some((i) => i.context !== undefined && i.context !== '');
  return {
    type: type as (typeof UPSERT_TYPES)[number],
    derived,
    convergentEncryption:
      optionalBool(body.convergent_encryption, 'convergent_encryption') ?? false,
  };
}
