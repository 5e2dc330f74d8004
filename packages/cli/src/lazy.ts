/** What every command body exports: run with the parsed arguments and options, return the exit code. */
export type CommandRun<Args extends unknown[]> = (...args: Args) => Promise<number>;

/**
 * Wraps a command body's dynamic import as a commander action, so a command's code (and its
 * dependencies) load only when that command runs. Commander calls actions with the positional
 * arguments, then the options, then the command itself; `run` receives all but the command.
 */
export type Lazy = <Args extends unknown[]>(
  load: () => Promise<{ run: CommandRun<Args> }>,
) => (...args: unknown[]) => Promise<void>;

/** Creates the `lazy` wrapper that reports each command's exit code through `setExitCode`. */
export function createLazy(setExitCode: (code: number) => void): Lazy {
  return (load) =>
    async (...args) => {
      const { run } = await load();
      setExitCode(await (run as (...a: unknown[]) => Promise<number>)(...args.slice(0, -1)));
    };
}
