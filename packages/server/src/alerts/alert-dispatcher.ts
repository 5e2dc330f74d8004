import type { AlertChannels } from './alert-channels.js';
import type { Alert } from './alert-evaluator.js';

/** How one alert fared on one channel. */
export type DeliveryOutcome = 'delivered' | 'failed' | 'dropped';

/** Options for {@link createAlertDispatcher}. */
export interface AlertDispatcherOptions {
  readonly channels: Pick<AlertChannels, 'send'>;
  /** The node alerts are sent from (its advertised address once it listens). */
  readonly node: () => string;
  readonly clock: () => number;
  /** Told each outcome; `reason` (fixed words) for a failure or a drop. */
  readonly outcome: (
    channel: string,
    alert: Alert,
    outcome: DeliveryOutcome,
    reason?: string,
  ) => void;
  /** Deliveries in flight at most; more are dropped, not queued (default 64). */
  readonly maxInFlight?: number;
}

/** Sends alerts in the background. */
export interface AlertDispatcher {
  /** Starts delivering to the alert's channels and returns at once; never throws. */
  dispatch(alert: Alert): void;
  /** Waits for the deliveries in flight, up to `timeoutMs`; true when none is left. */
  drain(timeoutMs: number): Promise<boolean>;
}

/**
 * Delivers alerts without holding anything up: `dispatch` starts one send per channel and
 * returns; a failed send is reported to `outcome`, never thrown. A dead channel cannot grow
 * memory: beyond `maxInFlight` sends in flight, an alert is dropped (and reported).
 *
 * @example
 * ```ts
 * const dispatcher = createAlertDispatcher({ channels, node: () => url, clock: Date.now, outcome: log });
 * evaluator = createAlertEvaluator({ rules, rateLimitMs, fire: dispatcher.dispatch });
 * ```
 */
export function createAlertDispatcher(options: AlertDispatcherOptions): AlertDispatcher {
  const maxInFlight = options.maxInFlight ?? 64;
  const inFlight = new Set<Promise<void>>();
  const report = (channel: string, alert: Alert, outcome: DeliveryOutcome, reason?: string) => {
    try {
      options.outcome(channel, alert, outcome, reason);
    } catch {
      // A reporting failure must not reach the request that raised the alert.
    }
  };
  return {
    dispatch(alert) {
      const at = new Date(options.clock());
      for (const channel of alert.channels) {
        if (inFlight.size >= maxInFlight) {
          report(channel, alert, 'dropped', `${maxInFlight} deliveries already in flight`);
          continue;
        }
        const delivery = options.channels
          .send(channel, alert, options.node(), at)
          .then(
            (result) =>
              result.ok
                ? report(channel, alert, 'delivered')
                : report(channel, alert, 'failed', result.reason),
            () => report(channel, alert, 'failed', 'delivery failed'),
          )
          .finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
      }
    },
    async drain(timeoutMs) {
      if (inFlight.size === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs).unref();
      });
      const done = Promise.allSettled([...inFlight]).then(() => true);
      const drained = await Promise.race([done, timedOut]);
      clearTimeout(timer);
      return drained && inFlight.size === 0;
    },
  };
}
