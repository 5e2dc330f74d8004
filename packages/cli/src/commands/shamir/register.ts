import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';

const integer = (value: string) => {
  if (!/^\d{1,3}$/.test(value)) throw new Error(`${value} is not a whole number`);
  return Number(value);
};

/** `custos shamir split|combine`. */
export function registerShamirCommands(program: Command, lazy: Lazy): void {
  const shamir = program
    .command('shamir')
    .description(
      'split a key into Shamir shares (any t of n rebuild it) and combine them again, checked',
    );
  shamir
    .command('split')
    .description(
      'split a secret (a key file, standard input) into n shares, any t of which rebuild it',
    )
    .requiredOption('-t, --threshold <t>', 'shares needed to rebuild the secret (2..n)', integer)
    .requiredOption('-n, --shares <n>', 'shares to make (t..255)', integer)
    .option('--in <file>', 'file holding the secret, mode 0600 (default: standard input)')
    .option(
      '--out-dir <dir>',
      'write share-<i>-of-<n>.txt files (mode 0600) there instead of lines on standard output',
    )
    .option(
      '--qr',
      'add a QR code of each share (printed as text; needs the qrcode package)',
      false,
    )
    .addHelpText(
      'after',
      '\nEach share is one printable line: custos-share1.<set id>.<t>-of-<n>.<index>.<data>.<checksum>.\nThe set id is random per split; a commitment in every share lets combine check the result.\nGive each share to a different person; fewer than t shares reveal nothing about the secret.',
    )
    .action(lazy(() => import('./split.js')));
  shamir
    .command('combine')
    .description('rebuild a secret from t shares (files, or lines on standard input), checked')
    .argument('[files...]', 'share files (default: share lines on standard input)')
    .option('-o, --out <file>', 'write the secret here (mode 0600) instead of standard output')
    .addHelpText(
      'after',
      '\nToo few, repeated, mistyped, mixed-up (from two splits) or forged shares are reported by\nname, with a typed error and exit 2: a wrong secret is never written.',
    )
    .action(lazy(() => import('./combine.js')));
}
