import { createHmac } from 'node:crypto';
import type { Alert } from './alert-evaluator.js';

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'x-custos-signature';

/** A Slack-compatible body: `text` for chat tools, `custos` for machines. No secret values. */
export function webhookBody(alert: Alert, node: string, at: Date): string {
  return JSON.stringify({
    text: `[custos] ${alert.rule}: ${alert.summary}`,
    custos: {
      rule: alert.rule,
      event: alert.event,
      summary: alert.summary,
      node,
      at: at.toISOString(),
    },
  });
}

/** The signature header value for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** How one delivery went: `reason` names a failure in fixed words, never a secret. */
export type DeliveryResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string };

export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs?: number;
}

/**
 * Posts a signed alert; resolves `true` on a 2xx, `false` otherwise (a timeout, a refused
 * connection, another status). Never throws and never reports the secret.
 *
 * @example
 * ```ts
 * const ok = await sendWebhook({ url: 'https://hooks.example/x', secret }, body, new Date());
 * ```
 */
export async function sendWebhook(
  target: WebhookTarget,
  body: string,
  at: Date,
): Promise<DeliveryResult> {
  const timestamp = Math.floor(at.getTime() / 1000);
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signWebhook(target.secret, timestamp, body),
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(target.timeoutMs ?? 5000),
    });
    await response.body?.cancel();
    return response.ok ? { ok: true } : { ok: false, reason: `HTTP ${response.status}` };
  } catch (err) {
    const name = err instanceof Error ? err.name : 'Error';
    return { ok: false, reason: name === 'TimeoutError' ? 'timed out' : 'connection failed' };
  }
}
