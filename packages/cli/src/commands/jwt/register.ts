import { type Command, Option } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addIdentityFlags, addRecipientFlags } from '../backup/key-flags.js';

/** `custos jwt rotate|show|jwks|protect|unprotect`: JWT keyset files. */
export function registerJwtCommands(program: Command, lazy: Lazy): void {
  const jwt = program
    .command('jwt')
    .description(
      'rotate and inspect JWT keyset files (create one with `custos keygen --jwt <alg> --out <file>`)',
    );
  jwt
    .command('rotate')
    .description('add a new current key; the old one verifies until the grace window ends')
    .requiredOption('-f, --file <file>', 'keyset file (mode 0600)')
    .option(
      '-g, --grace <duration>',
      'how long the old key keeps verifying (e.g. 24h, 48h, 7d)',
      '48h',
    )
    .addOption(
      new Option(
        '-a, --algorithm <alg>',
        'algorithm of the new key (default: the current one)',
      ).choices(['HS256', 'ES256', 'EdDSA', 'RS256']),
    )
    .action(lazy(() => import('./rotate.js')));
  jwt
    .command('show')
    .description('print kids, algorithms, states and grace windows (never key material)')
    .requiredOption('-f, --file <file>', 'keyset file')
    .option('--json', 'print JSON', false)
    .action(lazy(() => import('./show.js')));
  jwt
    .command('jwks')
    .description('print the public JWK Set other services verify with (asymmetric keys only)')
    .requiredOption('-f, --file <file>', 'keyset file')
    .action(lazy(() => import('./jwks.js')));

  addRecipientFlags(
    jwt
      .command('protect')
      .description(
        'wrap a keyset file (in place) for a passphrase, X25519 recipient, key file or transit key',
      )
      .requiredOption('-f, --file <file>', 'keyset file')
      .option('-o, --out <file>', 'write here instead of replacing the file')
      .addHelpText(
        'after',
        '\nLoaders open a protected file with CUSTOS_KEY_PASSPHRASE_FILE, CUSTOS_KEY_IDENTITY or\nCUSTOS_KEY_KEY_FILE (or CUSTOS_ADDR and CUSTOS_TOKEN for a transit key); commands that change it\nwrite it back protected for the same keys. See docs/backups.md.',
      ),
  ).action(lazy(() => import('./protect.js')));
  addIdentityFlags(
    jwt
      .command('unprotect')
      .description('write a protected keyset file back in the clear (mode 0600)')
      .requiredOption('-f, --file <file>', 'protected keyset file')
      .option('-o, --out <file>', 'write here instead of replacing the file'),
  ).action(lazy(() => import('./unprotect.js')));
}
