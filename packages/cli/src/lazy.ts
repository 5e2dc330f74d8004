/** What every command body exports: run with the parsed options, return the exit code. */
export type CommandRun<Options> = (options: Options) => Promise<number>;

/**
 * Wraps a command body's dynamic import as a commander action, so a command's code (and its
 * dependencies) load only when that command runs.
 */
export type Lazy = <Options>(
  load: () => Promise<{ run: CommandRun<Options> }>,
) => (options: Options) => Promise<void>;

/** Creates the `lazy` wrapper that reports each command's exit code through `setExitCode`. */
export function createLazy(setExitCode: (code: number) => void): Lazy {
  return (load) => async (options) => {
    const { run } = await load();
    setExitCode(await run(options));
  };
}
