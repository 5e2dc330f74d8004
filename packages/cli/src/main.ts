import { normaliseVaultFlags } from './vault/argv.js';

/**
 * Runs the custos command line with `argv` (without `node` and the script path) and returns
 * the exit code: 0 success, 1 a finding or failed check, 2 usage or runtime error.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['keyring', 'create', '--out', 'keyring.json']);
 * ```
 */
export async function main(argv: readonly string[]): Promise<number> {
  // Vault's one-dash long flags (`-format=json`) read as commander's `--format=json`.
  const args = normaliseVaultFlags(argv);
  // `custos scan` (the pre-commit check, run on every commit) loads only its own branch of
  // the tree (scan-main.ts).
  if (args[0] === 'scan') return (await import('./scan-main.js')).scanMain(args);
  // `custos server` loads only its own branch too: the server holds what it loaded for its life.
  if (args[0] === 'server') {
    const [{ runBranch }, { registerServerCommand }] = await Promise.all([
      import('./branch-program.js'),
      import('./commands/server/register.js'),
    ]);
    return runBranch(registerServerCommand, args);
  }
  const [{ createProgram }, { runProgram }] = await Promise.all([
    import('./program.js'),
    import('./parse-program.js'),
  ]);
  return runProgram(createProgram, args);
}
