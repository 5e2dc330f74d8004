import { readFile } from 'node:fs/promises';
import {
  type AlertChannel,
  type AlertsConfig,
  webhookUrlProblem,
} from '../config/alerts-config.js';
import { ServerError } from '../errors.js';
import { readNamedSecret } from '../lib/named-secret.js';
import type { Alert } from './alert-evaluator.js';
import { createEmailSender } from './email-delivery.js';
import {
  alertWebhookSigner,
  type DeliveryResult,
  sendWebhook,
  webhookBody,
} from './webhook-delivery.js';

/** One channel, ready to send: its secret read, its SMTP transport made. */
interface OpenChannel {
  readonly type: AlertChannel['type'];
  send(alert: Alert, node: string, at: Date): Promise<DeliveryResult>;
  close(): void;
}

/** The configured channels by name, with their secrets read. */
export interface AlertChannels {
  /** The channels' names and types, in configuration order. */
  readonly list: readonly { readonly name: string; readonly type: AlertChannel['type'] }[];
  /** Sends an alert through the named channel; never throws. */
  send(name: string, alert: Alert, node: string, at: Date): Promise<DeliveryResult>;
  close(): void;
}

/** Options for {@link openAlertChannels}. */
export interface AlertChannelOptions {
  /** Where `*_env` secrets are read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** A webhook's or an SMTP connection's timeout (default 5 000 and 10 000 ms). */
  readonly timeoutMs?: number;
}

async function openChannel(
  name: string,
  channel: AlertChannel,
  options: AlertChannelOptions,
): Promise<OpenChannel> {
  const at = `alerts.channels.${name}`;
  const env = options.env ?? process.env;
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  if (channel.type === 'webhook') {
    const source = channel.url;
    const url = typeof source === 'string' ? source : await readNamedSecret(source, at, 'url', env);
    const problem = webhookUrlProblem(url);
    if (problem !== undefined) {
      const from = typeof source === 'string' ? 'url' : 'env' in source ? 'url_env' : 'url_file';
      throw new ServerError('ERR_INVALID_CONFIG', `config: ${at}: the ${from} ${problem}`);
    }
    const secret = await readNamedSecret(channel.secret, at, 'secret', env);
    const target = { url, signer: alertWebhookSigner(secret, name), ...timeout };
    return {
      type: 'webhook',
      send: (alert, node, when) => sendWebhook(target, webhookBody(alert, node, when), when),
      close: () => {},
    };
  }
  const pass =
    channel.password === undefined
      ? undefined
      : await readNamedSecret(channel.password, at, 'password', env);
  const caFile = channel.caFile;
  const ca =
    caFile === undefined
      ? undefined
      : await readFile(caFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new ServerError(
            'ERR_INVALID_CONFIG',
            `config: ${at}: cannot read ca_file ${caFile}: ${err.code ?? 'unreadable'}`,
          );
        });
  const sender = createEmailSender({
    host: channel.host,
    port: channel.port,
    security: channel.security,
    from: channel.from,
    to: channel.to,
    ...(ca === undefined ? {} : { ca }),
    ...(pass === undefined || channel.username === undefined
      ? {}
      : { auth: { user: channel.username, pass } }),
    ...timeout,
  });
  return { type: 'email', send: sender.send, close: sender.close };
}

/**
 * Reads every channel's secret (signing secret, SMTP password) and CA file from where the
 * configuration names them, so a missing one stops the start (`ERR_INVALID_CONFIG`, naming the
 * channel and the variable or file, never a value) rather than the first alert; a weak signing
 * secret is `ERR_WEAK_SECRET`.
 *
 * @example
 * ```ts
 * const channels = await openAlertChannels(config.alerts, { env: process.env });
 * const result = await channels.send('ops', alert, 'node-1', new Date());
 * ```
 */
export async function openAlertChannels(
  config: Pick<AlertsConfig, 'channels'>,
  options: AlertChannelOptions = {},
): Promise<AlertChannels> {
  const open = new Map<string, OpenChannel>();
  try {
    for (const [name, channel] of Object.entries(config.channels))
      open.set(name, await openChannel(name, channel, options));
  } catch (err) {
    for (const channel of open.values()) channel.close();
    throw err;
  }
  return {
    list: [...open].map(([name, channel]) => ({ name, type: channel.type })),
    async send(name, alert, node, at) {
      const channel = open.get(name);
      if (channel === undefined) return { ok: false, reason: 'no such channel' };
      try {
        return await channel.send(alert, node, at);
      } catch {
        return { ok: false, reason: 'delivery failed' };
      }
    },
    close() {
      for (const channel of open.values()) channel.close();
    },
  };
}
