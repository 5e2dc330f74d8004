import { CustosError } from '@custos/core/errors';
import {
  type CreateTransitKeyOptions,
  isKeyPurpose,
  isTransitKeyType,
  KEY_PURPOSES,
  TRANSIT_KEY_TYPES,
} from '@custos/core/kms';
import { type FieldValues, field } from '../../http/field-schema.js';
import { parseCustomMetadata } from '../../kv/kv-metadata.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/** The given values only: an absent (`undefined`) field names no option. */
function given(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/** The typed fields of `keys/:name` (`type` and `purpose` are names checked by createOptions). */
export const CREATE_KEY_FIELDS = {
  derived: field.bool(),
  convergent_encryption: field.bool(),
  exportable: field.bool(),
  allow_plaintext_backup: field.bool(),
  decrypt_after_revocation: field.bool(),
  auto_rotate_period: field.duration(),
  expires_at: field.time(),
  rotate_after_encryptions: field.int(),
} as const;

/**
 * Key creation parameters of `keys/:name`: only those the request names (the rest take their
 * defaults at creation), so a create of an existing key is compared with what was asked for.
 *
 * @example
 * ```ts
 * // a request { type: 'ed25519', exportable: 'true' }:
 * createOptions(body, fields); // { type: 'ed25519', exportable: true }
 * ```
 */
export function createOptions(
  body: Record<string, unknown>,
  fields: FieldValues<typeof CREATE_KEY_FIELDS>,
): CreateTransitKeyOptions {
  // Labels are set where they can also change (a create of an existing key changes nothing):
  // refused here rather than dropped, so a key is never believed classified when it is not.
  if (body.custom_metadata !== undefined)
    throw invalid('custom_metadata is set at keys/:name/config, once the key exists');
  if (body.type !== undefined && !isTransitKeyType(body.type))
    throw invalid(`unknown key type; use one of ${TRANSIT_KEY_TYPES.join(', ')}`);
  if (body.purpose !== undefined && !isKeyPurpose(body.purpose))
    throw invalid(`unknown purpose; use one of ${KEY_PURPOSES.join(', ')}`);
  return given({
    type: body.type,
    purpose: body.purpose,
    derived: fields.derived,
    convergentEncryption: fields.convergent_encryption,
    exportable: fields.exportable,
    allowPlaintextBackup: fields.allow_plaintext_backup,
    decryptAfterRevocation: fields.decrypt_after_revocation,
    autoRotatePeriodSeconds: fields.auto_rotate_period,
    expiresAt: fields.expires_at,
    rotateAfterEncryptions: fields.rotate_after_encryptions,
  }) as CreateTransitKeyOptions;
}

/** The fields of `keys/:name/config`: the settings that may change after creation. */
export const KEY_CONFIG_FIELDS = {
  min_decryption_version: field.int(),
  min_encryption_version: field.int(),
  deletion_allowed: field.bool(),
  exportable: field.bool(),
  allow_plaintext_backup: field.bool(),
  decrypt_after_revocation: field.bool(),
  rotate_after_encryptions: field.int(),
  expires_at: field.time(),
  auto_rotate_period: field.duration(),
} as const;

/**
 * The settings a `keys/:name/config` request changes: only those it names.
 *
 * @example
 * ```ts
 * configChange(fields); // { minDecryptionVersion: 2 } for { min_decryption_version: 2 }
 * ```
 */
export function configChange(
  fields: FieldValues<typeof KEY_CONFIG_FIELDS>,
  body: Record<string, unknown> = {},
): Record<string, unknown> {
  return given({
    // Checked as KV's (limits, printable text); merged into the key's, `null` removing a label.
    customMetadata:
      body.custom_metadata === undefined
        ? undefined
        : parseCustomMetadata(body.custom_metadata, true),
    minDecryptionVersion: fields.min_decryption_version,
    minEncryptionVersion: fields.min_encryption_version,
    deletionAllowed: fields.deletion_allowed,
    exportable: fields.exportable,
    allowPlaintextBackup: fields.allow_plaintext_backup,
    decryptAfterRevocation: fields.decrypt_after_revocation,
    rotateAfterEncryptions: fields.rotate_after_encryptions,
    expiresAt: fields.expires_at,
    autoRotatePeriodSeconds: fields.auto_rotate_period,
  });
}
