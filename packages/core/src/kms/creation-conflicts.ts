import { CustosError } from '../errors/index.js';
import { type CreateTransitKeyOptions, sameTime, type TransitKeyPolicy } from './transit-key.js';

type Setting = keyof CreateTransitKeyOptions;

/** Each creation option with its policy field (Vault's name, used in messages). */
const FIELDS: Readonly<Record<Setting, keyof TransitKeyPolicy>> = {
  type: 'type',
  purpose: 'purpose',
  derived: 'derived',
  convergentEncryption: 'convergent_encryption',
  exportable: 'exportable',
  allowPlaintextBackup: 'allow_plaintext_backup',
  autoRotatePeriodSeconds: 'auto_rotate_period',
  expiresAt: 'expires_at',
  decryptAfterRevocation: 'decrypt_after_revocation',
  rotateAfterEncryptions: 'rotate_after_encryptions',
};

const show = (value: unknown) => (value === null ? 'null' : String(value));

/**
 * The settings a create request names that differ from the existing key's, as
 * `field is <existing> on the key` — settings left out of the request never conflict. The
 * requested value is never quoted (error texts reach the audit log as they are).
 *
 * @example
 * ```ts
 * creationConflicts(policy, { exportable: true }); // ['exportable is false on the key']
 * ```
 */
export function creationConflicts(
  policy: TransitKeyPolicy,
  options: CreateTransitKeyOptions,
): string[] {
  const conflicts: string[] = [];
  for (const [option, field] of Object.entries(FIELDS) as [Setting, keyof TransitKeyPolicy][]) {
    const requested = options[option];
    if (requested === undefined) continue;
    const existing = policy[field];
    const same =
      field === 'expires_at'
        ? sameTime(existing as string | null, requested as string | null)
        : existing === requested;
    if (!same) conflicts.push(`${field} is ${show(existing)} on the key`);
  }
  return conflicts;
}

/**
 * Refuses a create of a key that exists with other settings (`ERR_KEY_EXISTS`): creation never
 * changes a key, and silently keeping settings someone else chose (an `exportable` set by an
 * encrypt upsert, say) would hide them from the operator who asked for others.
 *
 * @example
 * ```ts
 * if (!(await store.createKey(name, options))) assertSameCreation(existingPolicy, options);
 * ```
 */
export function assertSameCreation(policy: TransitKeyPolicy, options: CreateTransitKeyOptions) {
  const conflicts = creationConflicts(policy, options);
  if (conflicts.length > 0) {
    throw new CustosError(
      'ERR_KEY_EXISTS',
      `key ${policy.name} already exists with other settings: ${conflicts.join('; ')} (creating a key never changes an existing one; change what may change in its config)`,
    );
  }
}
