import { text } from 'node:stream/consumers';
import { CustosError } from '@custos/core/errors';

/**
 * Reads a value given as `-` (or not given) from stdin, which keeps it out of the shell history.
 *
 * @example
 * ```ts
 * const share = await orStdin(key, 'unseal key');
 * ```
 */
export async function orStdin(value: string | undefined, what: string): Promise<string> {
  const given =
    value === '-' || value === undefined
      ? process.stdin.isTTY
        ? undefined
        : (await text(process.stdin)).trim()
      : value;
  if (given === undefined || given === '')
    throw new CustosError('ERR_INVALID_ARGUMENT', `give the ${what} as an argument or on stdin`);
  return given;
}
