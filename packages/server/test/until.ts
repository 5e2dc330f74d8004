/**
 * Polls `check` every 50 ms until it holds, for up to 15 s (a bound for a loaded machine, never
 * a time a test asserts); throws naming `what` when it never does.
 *
 * @example
 * ```ts
 * await until(async () => (await status()).sealed === false, 'the auto-unseal');
 * await until(() => node.context.barrier.changes.live, 'B listening again');
 * ```
 */
export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
