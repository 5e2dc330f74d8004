import { hostname } from 'node:os';
import type { AlertsConfig } from '../config/alerts-config.js';
import { createPeriodicTask } from '../lib/periodic-task.js';
import type { ServerMetrics, ServerStateSources } from '../metrics/server-metrics.js';
import { type AlertChannels, openAlertChannels } from './alert-channels.js';
import { createAlertDispatcher } from './alert-dispatcher.js';
import { type AlertSignal, createAlertEvaluator } from './alert-evaluator.js';
import { alertingMetrics } from './alerting-metrics.js';

/** Where alert log lines go (the server's pino logger); no value ever reaches them. */
export interface AlertLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Options for {@link createServerAlerts}. */
export interface ServerAlertsOptions {
  readonly config: AlertsConfig;
  /** The server's metrics: the alerts count themselves there too. */
  readonly metrics: ServerMetrics;
  /** The channels, secrets read (`openAlertChannels`). */
  readonly channels: AlertChannels;
  readonly clock: () => number;
  readonly log: AlertLog;
}

/** A server's alerts: rules fed by its metrics hooks and periodic checks, sent in the background. */
export interface ServerAlerts {
  /** The server's metrics whose event hooks also feed the rules: use it in their place. */
  readonly metrics: ServerMetrics;
  /** The node has just sealed (hooked on the seal manager). */
  nodeSealed(): void;
  /** The address the alerts name as their node (default the host name). */
  setNode(node: string): void;
  /** Starts evaluating and the periodic checks. */
  start(): void;
  /**
   * Stops evaluating (a shutdown's own seal is not alerted) and the checks, then waits up to
   * `drainMs` for the deliveries in flight.
   */
  stop(drainMs: number): Promise<void>;
  /** Releases the channels (after `stop`, or when the start fails). */
  close(): void;
}

/**
 * Wires alerts into a server: the metrics' event hooks (authentication failures, integrity
 * failures, rotation results, audit sink failures) feed the rule evaluator, the seal manager
 * reports a seal, and an unref'd timer checks every `checkIntervalMs` the seal state, overdue
 * rotations and the served certificate's expiry (a condition that lasts is alerted again once
 * per rate limit). Alerts are delivered in the background: a request never waits for, or fails
 * by, a delivery; a failed delivery is logged (channel, rule, reason) and counted.
 *
 * @example
 * ```ts
 * const alerts = createServerAlerts({ config, metrics, channels, clock: Date.now, log: logger });
 * ctx.metrics = alerts.metrics;
 * alerts.start();
 * ```
 */
export function createServerAlerts(options: ServerAlertsOptions): ServerAlerts {
  const { config, metrics, channels, log } = options;
  let node = hostname();
  let active = false;
  let sources: ServerStateSources | undefined;
  const dispatcher = createAlertDispatcher({
    channels,
    node: () => node,
    clock: options.clock,
    outcome(channel, alert, outcome, reason) {
      metrics.alertDelivery(channel, outcome);
      if (outcome !== 'delivered')
        log.error({ channel, rule: alert.rule, reason }, `alert not delivered (${outcome})`);
    },
  });
  const evaluator = createAlertEvaluator({
    rules: config.rules,
    rateLimitMs: config.rateLimitMs,
    clock: options.clock,
    fire(alert) {
      metrics.alert(alert.rule, 'fired');
      log.warn({ alert: { rule: alert.rule, event: alert.event } }, `alert: ${alert.summary}`);
      dispatcher.dispatch(alert);
    },
    rateLimited: (rule) => metrics.alert(rule, 'rate_limited'),
  });
  const observe = (signal: AlertSignal) => {
    if (!active) return;
    try {
      evaluator.observe(signal);
    } catch (err) {
      // Never the request's problem.
      log.error({ reason: (err as Error).message }, 'alert evaluation failed');
    }
  };
  const checks = createPeriodicTask(
    async () => {
      if (sources?.sealed() === true) observe({ kind: 'sealed' });
      const overdue = await sources?.overdueRotations();
      if (overdue !== undefined) observe({ kind: 'rotation_overdue', count: overdue });
      const daysLeft = metrics.certificateExpiryDays();
      if (daysLeft !== undefined) observe({ kind: 'certificate', name: 'server', daysLeft });
    },
    config.checkIntervalMs,
    (err) => log.error({ reason: (err as Error).message }, 'alert check failed'),
  );
  return {
    metrics: alertingMetrics(metrics, observe, (next) => {
      sources = next;
    }),
    nodeSealed: () => observe({ kind: 'sealed' }),
    setNode(next) {
      node = next;
    },
    start() {
      active = true;
      checks.start();
    },
    async stop(drainMs) {
      active = false;
      checks.stop();
      await dispatcher.drain(drainMs);
    },
    close: () => channels.close(),
  };
}

/**
 * Reads the channels' secrets ({@link openAlertChannels}: a missing or weak one stops the
 * start) and wires the alerts ({@link createServerAlerts}).
 *
 * @example
 * ```ts
 * const alerts = await openServerAlerts(config.alerts, { metrics, clock: Date.now, log: logger, env: process.env });
 * ```
 */
export async function openServerAlerts(
  config: AlertsConfig,
  options: Omit<ServerAlertsOptions, 'config' | 'channels'> & { readonly env: NodeJS.ProcessEnv },
): Promise<ServerAlerts> {
  const { env, ...rest } = options;
  const channels = await openAlertChannels(config, { env });
  return createServerAlerts({ ...rest, config, channels });
}
