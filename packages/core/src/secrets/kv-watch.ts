import type { ServerClient } from '../lib/server-client.js';

/** Options of the change-event watch of {@link vaultKv}'s `watch`. */
export interface KvWatchOptions {
  /** How long one long-poll waits on the server, in seconds (default 25, at most 60). */
  readonly waitSeconds?: number;
  /** The first reconnection delay after a failure (default 1000 ms; doubled up to 30 s). */
  readonly retryMs?: number;
}

/** What a change-event answer holds. */
interface EventsAnswer {
  readonly index?: unknown;
  readonly resync?: unknown;
  readonly events?: readonly { readonly path?: unknown }[];
}

/**
 * Long-polls the server's `sys/events/kv` for changes of the secret `<mount>/<path>` and calls
 * `onChange` on each one (and on a resync, when changes may have been missed). Reconnects
 * after a failure with a doubling delay (with jitter, up to 30 s); meanwhile the caches
 * refresh on their TTL as without a watch. Returns the function that stops it.
 *
 * @example
 * ```ts
 * const stop = watchKvSecret(client, 'secret/app/db', () => cache.clear(), {});
 * ```
 */
export function watchKvSecret(
  client: Pick<ServerClient, 'call'>,
  secret: string,
  onChange: () => void,
  options: KvWatchOptions,
): () => void {
  const wait = Math.min(Math.max(Math.trunc(options.waitSeconds ?? 25), 1), 60);
  const firstRetry = options.retryMs ?? 1000;
  const stopped = new AbortController();
  let retry = firstRetry;
  let index = 0;
  let started = false;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      stopped.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });

  const loop = async () => {
    while (!stopped.signal.aborted) {
      try {
        const response = await client.call(
          'GET',
          `sys/events/kv?prefix=${encodeURIComponent(secret)}&index=${index}&wait=${wait}s`,
          { signal: stopped.signal },
        );
        if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
        const data = (response.body?.data ?? {}) as EventsAnswer;
        if (typeof data.index !== 'number') throw new Error('not a change-event answer');
        const first = !started;
        started = true;
        index = data.index;
        retry = firstRetry;
        const changed = (data.events ?? []).some((e) => e.path === secret);
        // A resync but on the very first poll (after a failure, a restart, another node):
        // changes may have been missed.
        if (changed || (data.resync === true && !first)) onChange();
      } catch {
        if (stopped.signal.aborted) return;
        // The next poll starts afresh: the server, or the node answering, may have changed.
        index = 0;
        // Changes made while the stream was down are not known: the TTL answers until then.
        await pause(retry * (0.5 + Math.random() / 2));
        retry = Math.min(retry * 2, 30_000);
      }
    }
  };
  void loop();
  return () => stopped.abort();
}
