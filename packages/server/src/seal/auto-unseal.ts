import type { SealManager } from './seal-manager.js';

/** What the retry loop reports (the server logs it; messages never hold a token). */
export interface AutoUnsealEvents {
  unsealed(): void;
  failed(error: Error, retryInMs: number): void;
}

/** Backoff of the auto-unseal retries. */
export interface AutoUnsealBackoff {
  /** First wait after a failure (default 1000 ms). */
  readonly initialMs?: number;
  /** Longest wait (default 60 000 ms). */
  readonly maxMs?: number;
}

/**
 * Unseals a server with an auto-unseal seal at start, and keeps trying with exponential backoff
 * while the seal is out of reach (or the storage is not initialised yet): the server stays
 * sealed and serves `sys/seal-status` meanwhile — never a crash loop, nothing written. Stops
 * once unsealed, or when `stop()` is called. A later `sys/seal` keeps the server sealed until
 * `sys/unseal` (or a restart).
 *
 * @example
 * ```ts
 * const loop = startAutoUnseal(seal, { unsealed: () => log.info('unsealed'), failed: (e) => log.warn(e.message) });
 * await loop.stop();
 * ```
 */
export function startAutoUnseal(
  seal: SealManager,
  events: AutoUnsealEvents,
  backoff: AutoUnsealBackoff = {},
): { stop(): Promise<void> } {
  const initialMs = backoff.initialMs ?? 1000;
  const maxMs = backoff.maxMs ?? 60_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
      timer.unref();
    });
  const run = async () => {
    let delay = initialMs;
    while (!stopped) {
      try {
        await seal.load();
        if (seal.isInitialized()) {
          await seal.autoUnseal();
          if (stopped) return;
          events.unsealed();
          return;
        }
      } catch (err) {
        if (stopped) return;
        events.failed(err as Error, delay);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, maxMs);
    }
  };
  const running = run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await running;
    },
  };
}
