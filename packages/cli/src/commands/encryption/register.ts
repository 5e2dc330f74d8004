import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addTargetOptions } from '../reencrypt/register.js';

/** `custos encryption status`. */
export function registerEncryptionCommands(program: Command, lazy: Lazy): void {
  const encryption = program
    .command('encryption')
    .description('inspect encrypted database columns');
  addTargetOptions(
    encryption
      .command('status')
      .description(
        'count values per key version, plaintext values, and values that fail to decrypt',
      ),
  )
    .option(
      '--keyring <file>',
      'keyring file: marks current versions and checks every value decrypts',
    )
    .option('--no-decrypt', 'with keys given, read headers only (faster; no tamper check)')
    .option(
      '--index-columns <a,b>',
      'blind-index columns: count indexes per blind-index key version and legacy ones',
    )
    .option(
      '--require-current',
      'exit 1 unless every value is current and encrypted (and every index under the blind-index primary)',
      false,
    )
    .option('--json', 'print JSON', false)
    .action(lazy(() => import('./status.js')));
}
