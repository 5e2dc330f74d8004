import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Lazy } from '../../lazy.js';

/** `custos keygen`: random secrets, JWT keysets and API keys from the system CSPRNG. */
export function registerKeygenCommand(program: Command, lazy: Lazy): void {
  program
    .command('keygen')
    .description(
      'print a random secret from the system CSPRNG (entropy on stderr), a JWT keyset (--jwt) or an API key (--api-key)',
    )
    .addOption(
      new Option('-f, --format <format>', 'text encoding')
        .choices(['hex', 'base64', 'base64url', 'alphanumeric'])
        .default('base64url'),
    )
    .option('-b, --bytes <n>', 'random bytes, i.e. entropy / 8', parsePositiveInteger, 32)
    .addOption(
      new Option(
        '--jwt <alg>',
        'a JWT keyset with one new current key (private material: keep it 0600)',
      )
        .choices(['HS256', 'ES256', 'EdDSA', 'RS256'])
        .conflicts(['apiKey', 'format', 'bytes']),
    )
    .addOption(
      new Option('--api-key <prefix>', 'an API key <prefix>_<key id>_<random><checksum>').conflicts(
        ['format', 'bytes', 'out'],
      ),
    )
    .option(
      '-o, --out <file>',
      'with --jwt: write the keyset to this file (mode 0600) instead of stdout',
    )
    .option('--force', 'with --out: replace an existing file', false)
    .action(lazy(() => import('./run.js')));
}

function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new InvalidArgumentError(`expected an integer from 1 to 1024, got "${value}"`);
  }
  return n;
}
