import { createRequire } from 'node:module';
import { Command, InvalidArgumentError, Option } from 'commander';

/** What every command module exports: run with parsed options, return the exit code. */
export type CommandRun<Options> = (options: Options) => Promise<number>;

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Builds the command tree. Command bodies live in `commands/` and are imported only when their
 * command runs, so `custos --help` loads nothing but commander.
 */
export function createProgram(setExitCode: (code: number) => void): Command {
  const lazy =
    <Options>(load: () => Promise<{ run: CommandRun<Options> }>) =>
    async (options: Options): Promise<void> => {
      const { run } = await load();
      setExitCode(await run(options));
    };

  const program = new Command('custos')
    .description('Secrets and encryption for TypeScript/Node.js applications.')
    .version(version, '-v, --version', 'print the custos version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const keyring = program
    .command('keyring')
    .description('create, rotate and inspect keyring files (symmetric keys with versions)');
  keyring
    .command('create')
    .description('create a keyring file (mode 0600) holding one new key')
    .requiredOption('-o, --out <file>', 'file to write; refused if it exists unless --force')
    .option('-n, --name <name>', 'name of the key', 'default')
    .addOption(
      new Option('-a, --algorithm <algorithm>', 'key algorithm')
        .choices(['aes-256-gcm', 'chacha20-poly1305', 'aes-256-gcm-siv'])
        .default('aes-256-gcm'),
    )
    .option('-f, --force', 'replace an existing file', false)
    .action(lazy(() => import('./commands/keyring-create.js')));
  keyring
    .command('add')
    .description('add a new named key to an existing keyring file')
    .requiredOption('-f, --file <file>', 'keyring file')
    .requiredOption('-n, --name <name>', 'name of the new key')
    .addOption(
      new Option('-a, --algorithm <algorithm>', 'key algorithm')
        .choices(['aes-256-gcm', 'chacha20-poly1305', 'aes-256-gcm-siv'])
        .default('aes-256-gcm'),
    )
    .action(lazy(() => import('./commands/keyring-add.js')));
  keyring
    .command('rotate')
    .description('add a new primary version to a key; older versions keep decrypting')
    .requiredOption('-f, --file <file>', 'keyring file')
    .option('-n, --name <name>', 'key to rotate (required when the file holds several keys)')
    .action(lazy(() => import('./commands/keyring-rotate.js')));
  keyring
    .command('show')
    .description('print key names, ids, versions, states and counters (never key material)')
    .requiredOption('-f, --file <file>', 'keyring file')
    .option('--json', 'print JSON', false)
    .action(lazy(() => import('./commands/keyring-show.js')));

  program
    .command('random')
    .description('print a random secret from the system CSPRNG, with its entropy on stderr')
    .addOption(
      new Option('-e, --encoding <encoding>', 'text encoding')
        .choices(['hex', 'base64', 'base64url', 'alphanumeric'])
        .default('base64url'),
    )
    .option('-b, --bytes <n>', 'random bytes (entropy / 8)', parsePositiveInteger, 32)
    .action(lazy(() => import('./commands/random.js')));

  return program;
}

function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  }
  return n;
}
