import { isCustosError } from '@custos/core/errors';

/** Writes a line to standard output. */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/**
 * A reader that stops early (`custos … | head`) closes standard output: later writes fail with
 * EPIPE. Like other Unix tools, the command then ends at once with the exit code it has so far,
 * instead of an unhandled error event and its stack.
 */
export function endQuietlyWhenOutputCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
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

/**
 * `n` and a noun that agrees with it.
 *
 * @example
 * ```ts
 * plural(1, 'row'); // '1 row'
 * plural(3, 'entry', 'entries'); // '3 entries'
 * ```
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
