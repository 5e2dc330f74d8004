import { createRequire } from 'node:module';
import { Command } from 'commander';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The `custos` command itself, before any command group registers under it. */
export function createRootCommand(): Command {
  return (
    new Command('custos')
      .description('Secrets and encryption for TypeScript/Node.js applications.')
      .version(version, '-v, --version', 'print the custos version')
      .helpOption('-h, --help', 'show help for a command')
      .showHelpAfterError('(run with --help for usage)')
      // Program options (such as --version) only before the command: `kv get --version 2` is the KV flag.
      .enablePositionalOptions()
      .exitOverride()
  );
}
