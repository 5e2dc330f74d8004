/**
 * The custos command line as a library: `main(argv)` runs a command and returns its exit code.
 *
 * @example
 * ```ts
 * import { main } from 'custos';
 * const code = await main(['keyring', 'show', '--file', 'keyring.json']);
 * ```
 * @module
 */
export { ExitCode } from './exit-codes.js';
export { main } from './main.js';
