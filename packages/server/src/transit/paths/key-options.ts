import { CustosError } from '@custos/core/errors';
import {
  type CreateTransitKeyOptions,
  isKeyPurpose,
  isTransitKeyType,
  KEY_PURPOSES,
  TRANSIT_KEY_TYPES,
} from '@custos/core/kms';
import { durationField, optionalBool, optionalInt, timeField } from '../../http/fields.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);

/**
 * Key creation parameters of `keys/:name`: only those the request names (the rest take their
 * defaults at creation), so a create of an existing key is compared with what was asked for.
 *
 * @example
 * ```ts
 * createOptions({ type: 'ed25519', exportable: 'true' }); // { type: 'ed25519', exportable: true }
 * ```
 */
export function createOptions(body: Record<string, unknown>): CreateTransitKeyOptions {
  if (body.type !== undefined && !isTransitKeyType(body.type))
    throw invalid(`unknown key type; use one of ${TRANSIT_KEY_TYPES.join(', ')}`);
  if (body.purpose !== undefined && !isKeyPurpose(body.purpose))
    throw invalid(`unknown purpose; use one of ${KEY_PURPOSES.join(', ')}`);
  const options: Record<string, unknown> = {};
  const set = (option: keyof CreateTransitKeyOptions, value: unknown) => {
    if (value !== undefined) options[option] = value;
  };
  set('type', body.type);
  set('purpose', body.purpose);
  set('derived', optionalBool(body.derived, 'derived'));
  set('convergentEncryption', optionalBool(body.convergent_encryption, 'convergent_encryption'));
  set('exportable', optionalBool(body.exportable, 'exportable'));
  set('allowPlaintextBackup', optionalBool(body.allow_plaintext_backup, 'allow_plaintext_backup'));
  set(
    'decryptAfterRevocation',
    optionalBool(body.decrypt_after_revocation, 'decrypt_after_revocation'),
  );
  if (body.auto_rotate_period !== undefined)
    options.autoRotatePeriodSeconds = durationField(body.auto_rotate_period, 'auto_rotate_period');
  const expires = timeField(body.expires_at, 'expires_at');
  if (expires !== undefined) options.expiresAt = expires;
  const rotateAfter = optionalInt(body.rotate_after_encryptions, 'rotate_after_encryptions');
  if (rotateAfter !== undefined) options.rotateAfterEncryptions = rotateAfter;
  return options as CreateTransitKeyOptions;
}

/**
 * The settings a `keys/:name/config` request changes: only those it names.
 *
 * @example
 * ```ts
 * configChange({ min_decryption_version: 2 }); // { minDecryptionVersion: 2 }
 * ```
 */
export function configChange(body: Record<string, unknown>): Record<string, unknown> {
  const change: Record<string, unknown> = {};
  const set = (field: string, value: unknown) => {
    if (value !== undefined) change[field] = value;
  };
  set('minDecryptionVersion', optionalInt(body.min_decryption_version, 'min_decryption_version'));
  set('minEncryptionVersion', optionalInt(body.min_encryption_version, 'min_encryption_version'));
  set('deletionAllowed', optionalBool(body.deletion_allowed, 'deletion_allowed'));
  set('exportable', optionalBool(body.exportable, 'exportable'));
  set('allowPlaintextBackup', optionalBool(body.allow_plaintext_backup, 'allow_plaintext_backup'));
  set(
    'decryptAfterRevocation',
    optionalBool(body.decrypt_after_revocation, 'decrypt_after_revocation'),
  );
  set(
    'rotateAfterEncryptions',
    optionalInt(body.rotate_after_encryptions, 'rotate_after_encryptions'),
  );
  set('expiresAt', timeField(body.expires_at, 'expires_at'));
  if (body.auto_rotate_period !== undefined) {
    change.autoRotatePeriodSeconds = durationField(body.auto_rotate_period, 'auto_rotate_period');
  }
  return change;
}
