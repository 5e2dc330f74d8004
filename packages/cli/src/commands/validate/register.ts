import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addLoadFlags } from './options.js';

/** `custos validate`: the seeds' `npm run validate:secrets`. */
export function registerValidateCommand(program: Command, lazy: Lazy): void {
  addLoadFlags(
    program
      .command('validate')
      .description(
        'check configuration (from the stores SECRETS_BACKEND names, when set): required variables set, secrets strong, no placeholders; exit 1 lists every problem (never a value)',
      ),
  )
    .option('--json', 'print the report as JSON', false)
    .action(lazy(() => import('./run.js')));
}
