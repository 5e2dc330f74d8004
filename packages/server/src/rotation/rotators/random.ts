import { CustosError } from '@custos/core/errors';
import { ownValue, setOwn } from '../../lib/own-property.js';
import type { Rotator } from '../rotator.js';
import { CHARSETS, randomValue, randomValueSpec } from './random-value.js';

/** The data field a rotator writes its value to (`settings.field`, default `value`). */
export function fieldOf(settings: Readonly<Record<string, unknown>>, fallback: string): string {
  const field = settings.field ?? fallback;
  if (typeof field !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/.test(field))
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      'settings.field must be a data key of letters, digits, _, . and -',
    );
  return field;
}

/**
 * The `random` rotator: a new value from the CSPRNG in one field of the secret (the other
 * fields are kept). Nothing outside custos holds it, so set does nothing and test checks the
 * value has the form the policy asks for. For API keys and webhook secrets that applications
 * read from custos (with `previous` accepted during the grace period).
 *
 * Settings: `field` (default `value`), `length` (16-256, default 32), `charset`
 * (`alphanumeric`, `hex`, `base64url`, `printable`), `prefix`.
 */
export const randomRotator: Rotator = {
  name: 'random',
  checkSettings(settings) {
    fieldOf(settings, 'value');
    randomValueSpec(settings);
  },
  async create({ settings, current }) {
    const pending: Record<string, unknown> = { ...current };
    setOwn(pending, fieldOf(settings, 'value'), randomValue(randomValueSpec(settings)));
    return pending;
  },
  async set() {},
  async test({ settings, pending }) {
    const spec = randomValueSpec(settings);
    const value = ownValue(pending, fieldOf(settings, 'value'));
    const chars: string = CHARSETS[spec.charset];
    if (
      typeof value !== 'string' ||
      value.length !== spec.prefix.length + spec.length ||
      !value.startsWith(spec.prefix) ||
      [...value.slice(spec.prefix.length)].some((c) => !chars.includes(c))
    )
      throw new CustosError(
        'ERR_INVALID_REQUEST',
        'the pending value does not have the policy form',
      );
  },
};
