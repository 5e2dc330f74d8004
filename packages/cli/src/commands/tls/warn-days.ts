import { InvalidArgumentError } from 'commander';

/** `--warn-days`: a whole number of days, 0 to 3650. */
export function parseWarnDays(value: string): number {
  const days = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(days) || days > 3650) {
    throw new InvalidArgumentError(
      `expected a whole number of days from 0 to 3650, got "${value}"`,
    );
  }
  return days;
}
