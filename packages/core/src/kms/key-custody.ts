import { CustosError, KeyDisabled } from '../errors/index.js';
import { canDecrypt, canReleaseMaterial, effectiveState, type KeyState } from './key-lifecycle.js';
import type { TransitKeyPolicy } from './transit-key.js';

/** What `transit/export/:type/:name` hands out (Vault's names). */
export const EXPORT_TYPES = ['encryption-key', 'signing-key', 'hmac-key', 'public-key'] as const;
export type ExportType = (typeof EXPORT_TYPES)[number];

const RELEASING_STATES = 'active, rotating and inactive keys only';

function stateOf(policy: TransitKeyPolicy, nowMs: number): KeyState {
  return effectiveState(policy.state, policy.expires_at, nowMs);
}

/**
 * Refuses to export `type` from a key whose lifecycle state or settings forbid it. Private
 * material (`encryption-key`, `signing-key`, `hmac-key`) needs `exportable` and a state that
 * may release material (active, rotating, inactive); a `public-key` follows verification (every
 * state but pending deletion, a revoked key only with `decrypt_after_revocation`).
 *
 * @example
 * ```ts
 * assertExportAllowed(policy, 'encryption-key', Date.now()); // throws for a revoked key
 * ```
 */
export function assertExportAllowed(
  policy: TransitKeyPolicy,
  type: ExportType,
  nowMs: number,
): void {
  const state = stateOf(policy, nowMs);
  if (type === 'public-key') {
    if (!canDecrypt(state, policy.decrypt_after_revocation))
      throw new KeyDisabled(
        `key ${policy.name} is ${state}: its public key cannot be exported (it no longer verifies)`,
      );
    return;
  }
  if (!canReleaseMaterial(state))
    throw new KeyDisabled(
      `key ${policy.name} is ${state}: its key material cannot be exported (${RELEASING_STATES})`,
    );
  if (!policy.exportable)
    throw new CustosError('ERR_INVALID_ARGUMENT', 'private key material is not exportable');
}

/**
 * Refuses a backup of a key whose lifecycle state or settings forbid it: it needs `exportable`
 * and `allow_plaintext_backup`, and a state that may release material (active, rotating,
 * inactive) — a backup of a revoked key would carry it out of its revocation.
 *
 * @example
 * ```ts
 * assertBackupAllowed(policy, Date.now());
 * const blob = encodeBackup({ policy, versions });
 * ```
 */
export function assertBackupAllowed(policy: TransitKeyPolicy, nowMs: number): void {
  const state = stateOf(policy, nowMs);
  if (!canReleaseMaterial(state))
    throw new KeyDisabled(
      `key ${policy.name} is ${state}: it cannot be backed up (${RELEASING_STATES})`,
    );
  if (!policy.exportable || !policy.allow_plaintext_backup)
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'backup requires exportable and allow_plaintext_backup to be set on the key',
    );
}

/**
 * Refuses a forced restore over `existing` when its state may not release material: replacing a
 * revoked, expired or pending-deletion key with an older backup would bring it back to life.
 *
 * @example
 * ```ts
 * if (existing !== undefined && force) assertReplaceable(existing, Date.now());
 * ```
 */
export function assertReplaceable(existing: TransitKeyPolicy, nowMs: number): void {
  const state = stateOf(existing, nowMs);
  if (!canReleaseMaterial(state))
    throw new CustosError(
      'ERR_INVALID_KEY_STATE',
      `key ${existing.name} is ${state}: a restore cannot replace it (force replaces ${RELEASING_STATES})`,
    );
}
