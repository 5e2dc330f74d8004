import { type Command, InvalidArgumentError } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addServerFlags } from '../../server-flags.js';

const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 255)
    throw new InvalidArgumentError('expected an integer from 1 to 255');
  return n;
};

/** `custos operator init|unseal|seal|status|generate-root|rekey` against CUSTOS_ADDR. */
export function registerOperatorCommands(program: Command, lazy: Lazy): void {
  const operator = program
    .command('operator')
    .description('initialise, unseal, seal and inspect a server (CUSTOS_ADDR, CUSTOS_TOKEN)');
  operator
    .command('init')
    .description('initialise the server: prints the unseal key shares and the root token, once')
    .option('-n, --key-shares <n>', 'number of unseal key shares', integer, 5)
    .option('-t, --key-threshold <n>', 'shares needed to unseal', integer, 3)
    .option(
      '--recovery-shares <n>',
      'auto-unseal server: number of recovery key shares (instead of -n)',
      integer,
    )
    .option('--recovery-threshold <n>', 'auto-unseal server: recovery shares needed', integer)
    .option('--format <format>', 'text or json', 'text')
    .action(lazy(() => import('./init.js')));
  operator
    .command('unseal')
    .description('submit one unseal key share (argument, or read from stdin)')
    .argument('[key]', 'the unseal key share (hex or base64); omit to read it from stdin')
    .option('--reset', 'forget the shares submitted so far', false)
    .option(
      '--migrate',
      'seal migration: the share is for a migration to or from an auto-unseal seal',
      false,
    )
    .action(lazy(() => import('./unseal.js')));
  operator
    .command('seal')
    .description('seal the server: it drops every key from memory (needs a sudo token)')
    .action(lazy(() => import('./seal.js')));
  operator
    .command('status')
    .description('print seal status; exit 0 unsealed, 1 sealed or uninitialised, 2 on error')
    .option('--format <format>', 'text or json', 'text')
    .action(lazy(() => import('./status.js')));
  operator
    .command('generate-root')
    .description(
      "generate a new root token with a threshold of unseal key shares (Vault's OTP flow)",
    )
    .argument('[key]', 'an unseal key share (hex or base64); omit to read it from stdin')
    .option('--init', 'start a generation (the server makes the OTP unless --otp is given)', false)
    .option('--status', 'print the generation in progress', false)
    .option('--cancel', 'cancel the generation in progress', false)
    .option('--generate-otp', 'print a new OTP to start a generation with (--init --otp)', false)
    .option('--otp <otp>', 'the OTP: to start with (--init), or to decode with (--decode)')
    .option('--decode <encoded>', "decode the encoded root token with --otp ('-': from stdin)")
    .option('--nonce <nonce>', 'the nonce of the generation (default: the one in progress)')
    .option('--format <format>', 'text or json', 'text')
    .action(lazy(() => import('./generate-root.js')));
  operator
    .command('rekey')
    .description(
      "replace the unseal key shares with new ones, authorised by a threshold of the current shares (Vault's rekey flow)",
    )
    .argument('[key]', 'a current key share (a new one with --verify); omit to read it from stdin')
    .option('--init', 'start a rekey with --key-shares and --key-threshold', false)
    .option('-n, --key-shares <n>', 'number of new key shares (with --init)', integer, 5)
    .option('-t, --key-threshold <n>', 'new shares needed to unseal (with --init)', integer, 3)
    .option(
      '--verify',
      'with --init: require the new keys to be verified; otherwise: act on the verification',
      false,
    )
    .option('--status', 'print the rekey (or, with --verify, the verification) in progress', false)
    .option('--cancel', 'cancel the rekey (or, with --verify, restart the verification)', false)
    .option('--nonce <nonce>', 'the nonce of the rekey (default: the one in progress)')
    .option(
      '--target <target>',
      'barrier (the unseal keys) or recovery (the recovery keys of an auto-unseal server)',
      'barrier',
    )
    .option('--format <format>', 'text or json', 'text')
    .action(lazy(() => import('./rekey.js')));
  for (const command of operator.commands) addServerFlags(command);
}
