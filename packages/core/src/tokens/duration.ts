import { CustosError } from '../errors/index.js';

/** Checks a non-negative whole number of seconds, naming the option when it is not. */
export function checkSeconds(value: number, what: string, { min = 0 } = {}): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${what} must be a whole number ≥ ${min}`);
  }
  return value;
}
