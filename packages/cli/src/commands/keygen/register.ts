import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Lazy } from '../../lazy.js';

/** `custos keygen`: random secrets from the system CSPRNG. */
export function registerKeygenCommand(program: Command, lazy: Lazy): void {
  program
    .command('keygen')
    .description('print a random secret from the system CSPRNG (entropy on stderr)')
    .addOption(
      new Option('-f, --format <format>', 'text encoding')
        .choices(['hex', 'base64', 'base64url', 'alphanumeric'])
        .default('base64url'),
    )
    .option('-b, --bytes <n>', 'random bytes, i.e. entropy / 8', parsePositiveInteger, 32)
    .action(lazy(() => import('./run.js')));
}

function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new InvalidArgumentError(`expected an integer from 1 to 1024, got "${value}"`);
  }
  return n;
}
