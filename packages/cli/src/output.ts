import { isCustosError } from '@custos/core/errors';

/** Writes a line to standard output. */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a line to standard error. */
export function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Prints an error for a human: the message and, for custos errors, the stable code. Stacks are
 * shown only with CUSTOS_DEBUG=1; messages never hold secret values by construction.
 */
export function reportError(err: unknown): void {
  if (isCustosError(err)) {
    warn(`custos: ${err.message} [${err.code}]`);
  } else if (err instanceof Error) {
    warn(`custos: ${err.message}`);
  } else {
    warn('custos: unexpected error');
  }
  if (process.env.CUSTOS_DEBUG === '1' && err instanceof Error && err.stack) warn(err.stack);
}
