import { CustosError } from '../errors/index.js';

/**
 * Lifecycle states of a transit key; `NOTES.md` beside this file lists the allowed transitions.
 *
 * @example
 * ```ts
 * KEY_STATES.filter((state) => state !== 'pending_deletion'); // states a key can decrypt in
 * ```
 */
export const KEY_STATES = [
  'active',
  'inactive',
  'rotating',
  'revoked',
  'expired',
  'pending_deletion',
] as const;

/**
 * A lifecycle state of a transit key.
 *
 * @example
 * ```ts
 * kms.setState('orders', 'inactive' satisfies KeyState);
 * ```
 */
export type KeyState = (typeof KEY_STATES)[number];

/**
 * Transitions an operator may request. `expired` is entered by the clock, not by request.
 * Cancelling a deletion (`pending_deletion` → `inactive`) is refused for a key that was revoked
 * before: it goes back to `revoked` instead (see {@link assertTransition}).
 *
 * @example
 * ```ts
 * KEY_TRANSITIONS.revoked; // ['pending_deletion']: revocation is final
 * ```
 */
export const KEY_TRANSITIONS: Readonly<Record<KeyState, readonly KeyState[]>> = {
  active: ['inactive', 'rotating', 'revoked', 'pending_deletion'],
  rotating: ['active', 'inactive', 'revoked'],
  inactive: ['active', 'revoked', 'pending_deletion'],
  revoked: ['pending_deletion'],
  expired: ['pending_deletion'],
  pending_deletion: ['inactive', 'revoked'],
};

/**
 * Whether `value` names a key state (for input read from a form, a flag or a file).
 *
 * @example
 * ```ts
 * if (!isKeyState(flags.state)) throw new Error(`unknown state ${flags.state}`);
 * kms.setState('orders', flags.state);
 * ```
 */
export function isKeyState(value: unknown): value is KeyState {
  return typeof value === 'string' && (KEY_STATES as readonly string[]).includes(value);
}

/** The state in force at `nowMs`: a key past its `expires_at` is `expired` whatever was stored. */
export function effectiveState(state: KeyState, expiresAt: string | null, nowMs: number): KeyState {
  if (
    expiresAt !== null &&
    Date.parse(expiresAt) <= nowMs &&
    state !== 'revoked' &&
    state !== 'pending_deletion'
  ) {
    return 'expired';
  }
  return state;
}

/**
 * Checks a requested transition; throws `ERR_INVALID_KEY_STATE` naming both states when it is
 * not allowed. `from` must be the state in force ({@link effectiveState}), not the stored one:
 * an expired key leaves only to `pending_deletion`, whatever state was stored before it expired.
 * `wasRevoked` says the key was revoked at some point: revocation is final, so such a key's
 * deletion is cancelled back to `revoked`, never to `inactive` (from where it could be
 * reactivated).
 *
 * @example
 * ```ts
 * assertTransition('revoked', 'active'); // throws: revoked keys never come back
 * assertTransition('pending_deletion', 'inactive', true); // throws: nor through a deletion
 * ```
 */
export function assertTransition(from: KeyState, to: KeyState, wasRevoked = false): void {
  if (to === 'expired') {
    throw new CustosError(
      'ERR_INVALID_KEY_STATE',
      'a key expires by its expires_at, not on request',
    );
  }
  if (from === to) return;
  const allowed = KEY_TRANSITIONS[from].filter(
    (next) => !(wasRevoked && from === 'pending_deletion' && next === 'inactive'),
  );
  if (!allowed.includes(to)) {
    const why =
      wasRevoked && from === 'pending_deletion'
        ? '; the key was revoked, and revocation is final: cancelling its deletion returns it to revoked'
        : '';
    throw new CustosError(
      'ERR_INVALID_KEY_STATE',
      `a key cannot go from ${from} to ${to} (allowed from ${from}: ${allowed.join(', ') || 'none'})${why}`,
    );
  }
}

/** Whether a key in `state` may encrypt, sign, or create HMACs and data keys. */
export function canEncrypt(state: KeyState): boolean {
  return state === 'active' || state === 'rotating';
}

/**
 * Whether key material of a key in `state` may leave custody (export, backup) or be replaced by a
 * restore: only while the key can still serve (active, rotating) or be brought back (inactive).
 * Revoked, expired and pending-deletion keys are on their way out: their material stays where
 * it is, so leaving the lifecycle through a copy is impossible.
 */
export function canReleaseMaterial(state: KeyState): boolean {
  return state === 'active' || state === 'rotating' || state === 'inactive';
}

/**
 * Whether a key in `state` may decrypt or verify. Revoked keys decrypt only when the key's
 * policy says so (`decrypt_after_revocation`), to let data be moved off them.
 */
export function canDecrypt(state: KeyState, decryptAfterRevocation: boolean): boolean {
  if (state === 'pending_deletion') return false;
  if (state === 'revoked') return decryptAfterRevocation;
  return true;
}
