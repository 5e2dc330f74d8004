/**
 * Polls `condition` every 25 ms until it holds, for up to 10 s (a bound, not a time the test
 * asserts); throws naming `what` when it never does.
 *
 * @example
 * ```ts
 * await waitUntil('B listening again', () => node.context.barrier.changes.live);
 * ```
 */
export async function waitUntil(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
