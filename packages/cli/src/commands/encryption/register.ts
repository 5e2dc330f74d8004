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
    .option(
      '--data-class <class>',
      'record the data class (PHI, PII, credential, payment, internal) of every column, or of one with <column>=<class>; repeatable. `custos compliance report --encryption-status` judges the report by it',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--json', "print JSON (with the table, each column's data_class and takenAt)", false)
    .action(lazy(() => import('./status.js')));
}
