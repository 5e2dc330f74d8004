/** A task that runs every so often while started. */
export interface PeriodicTask {
  start(): void;
  stop(): void;
}

/**
 * Runs `work` every `intervalMs` between `start` and `stop`; a run still going when the next is
 * due is not overlapped, and a failed run is reported to `onError` (the next one runs anyway).
 * The timer does not keep the process alive.
 *
 * @example
 * ```ts
 * const sweeper = createPeriodicTask(() => tokens.sweep(), 60_000, (err) => log(err));
 * sweeper.start();
 * ```
 */
export function createPeriodicTask(
  work: () => Promise<unknown>,
  intervalMs: number,
  onError: (error: unknown) => void = () => {},
): PeriodicTask {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await work();
    } catch (err) {
      onError(err);
    } finally {
      running = false;
    }
  };
  return {
    start() {
      timer ??= setInterval(() => void tick(), intervalMs).unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
