import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';

/** `custos env encrypt|decrypt|check`. */
export function registerEnvCommands(program: Command, lazy: Lazy): void {
  const env = program
    .command('env')
    .description('encrypt and decrypt .env values (committable enc: values), check .env files');
  env
    .command('encrypt')
    .description(
      "encrypt every value of an env file in place, under the file's own key: CUSTOS_ENV_KEY_<MODE> for .env.<mode>, CUSTOS_ENV_KEY for .env (created in .env.keys if it does not exist)",
    )
    .argument('<file>', 'env file, e.g. .env.production')
    .option('--keys-file <file>', 'key file (default .env.keys beside the env file)')
    .option(
      '--rotate',
      'start a new key and re-encrypt every value under it (also upgrades values of the first enc: format)',
      false,
    )
    .action(lazy(() => import('./encrypt.js')));
  env
    .command('decrypt')
    .description(
      'decrypt every enc: value of an env file in place, as a mode 0600 file (or print it with --stdout)',
    )
    .argument('<file>', 'env file')
    .option('--keys-file <file>', 'key file (default .env.keys beside the env file)')
    .option('--stdout', 'print the decrypted file instead of rewriting it', false)
    .action(lazy(() => import('./decrypt.js')));
  env
    .command('check')
    .description(
      'check .env files: the same names as .env.example, plaintext secrets git-ignored and not readable by others',
    )
    .option('-d, --dir <dir>', 'directory holding the .env files', '.')
    .option('--example <file>', 'example file (default .env.example)')
    .option(
      '--key-file <file>',
      'keyring, JWT keyset or KMS file to check is protected (production); repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--environment <name>', 'environment to check for (default: NODE_ENV)')
    .addHelpText(
      'after',
      '\nIn production (--environment production or NODE_ENV=production) it also warns about key files\n(the --key-file ones, and keyring, keyset and KMS JSON files in --dir) stored unprotected.',
    )
    .action(lazy(() => import('./check.js')));
}
