import { hostname } from 'node:os';
import { CustosError } from '@custos/core/errors';
import type { AlertChannel, AlertsConfig } from '../config/alerts-config.js';
import { openAlertChannels } from './alert-channels.js';
import type { Alert } from './alert-evaluator.js';

/** How the test alert fared on one channel. */
export interface TestDelivery {
  readonly channel: string;
  readonly type: AlertChannel['type'];
  readonly delivered: boolean;
  /** Why it failed, in fixed words (never a secret or the receiver's reply). */
  readonly reason?: string;
}

/** Which channels a test alert goes to: one channel, one rule's channels, or (neither) all. */
export interface TestAlertOptions {
  readonly channel?: string;
  readonly rule?: string;
  /** Where `*_env` secrets are read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** The node the alert names (default the host name). */
  readonly node?: string;
}

const list = (names: readonly string[]) =>
  names.length === 0 ? 'none' : names.map((n) => `"${n}"`).join(', ');

/**
 * Sends a test alert (event `test`, so no receiver mistakes it for an incident) through the
 * configured channels, outside any server: each channel's secret is read as the server reads
 * it, and each delivery is reported (`delivered`, or the reason it failed). An unknown channel
 * or rule, or a section without channels, is `ERR_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * const results = await sendTestAlert(config.alerts, { channel: 'ops' });
 * const failed = results.filter((r) => !r.delivered);
 * ```
 */
export async function sendTestAlert(
  config: AlertsConfig,
  options: TestAlertOptions = {},
): Promise<readonly TestDelivery[]> {
  if (options.channel !== undefined && options.rule !== undefined)
    throw new CustosError('ERR_INVALID_ARGUMENT', 'give a channel or a rule, not both');
  const channelNames = Object.keys(config.channels);
  const ruleNames = config.rules.map((r) => r.name);
  let alert: Alert;
  if (options.rule !== undefined) {
    const rule = config.rules.find((r) => r.name === options.rule);
    if (rule === undefined)
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `no alert rule named "${options.rule}" (rules: ${list(ruleNames)})`,
      );
    alert = {
      rule: rule.name,
      event: 'test',
      summary: `test alert for rule "${rule.name}" (${rule.event.kind}): nothing happened`,
      channels: rule.channels,
    };
  } else {
    if (options.channel !== undefined && !Object.hasOwn(config.channels, options.channel))
      throw new CustosError(
        'ERR_INVALID_ARGUMENT',
        `no alert channel named "${options.channel}" (channels: ${list(channelNames)})`,
      );
    alert = {
      rule: 'test',
      event: 'test',
      summary: 'test alert from custos alerts test: nothing happened',
      channels: options.channel === undefined ? channelNames : [options.channel],
    };
  }
  if (alert.channels.length === 0)
    throw new CustosError('ERR_INVALID_ARGUMENT', 'the alerts section has no channels');
  const wanted = Object.fromEntries(
    alert.channels.map((name) => [name, config.channels[name] as AlertChannel]),
  );
  const channels = await openAlertChannels(
    { channels: wanted },
    options.env === undefined ? {} : { env: options.env },
  );
  try {
    const node = options.node ?? hostname();
    const at = new Date();
    return await Promise.all(
      channels.list.map(async ({ name, type }) => {
        const result = await channels.send(name, alert, node, at);
        return result.ok
          ? { channel: name, type, delivered: true }
          : { channel: name, type, delivered: false, reason: result.reason };
      }),
    );
  } finally {
    channels.close();
  }
}
