import { createWebhookSigner, type WebhookSigner } from '@custos/core/webhooks';
import type { Alert } from './alert-evaluator.js';

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

/**
 * The signer of one webhook channel: `@custos/core/webhooks`' scheme (docs/webhooks.md), so a
 * receiver verifies alerts with `createWebhookVerifier` like any custos webhook. The secret is
 * checked here, at start (32+ bytes, not a placeholder: `ERR_WEAK_SECRET` naming the channel).
 *
 * @example
 * ```ts
 * const signer = alertWebhookSigner(process.env.ALERT_HMAC ?? '', 'ops');
 * ```
 */
export function alertWebhookSigner(secret: string, channel: string): WebhookSigner {
  return createWebhookSigner({
    secrets: [{ secret, name: `the signing secret of alerts.channels.${channel}` }],
  });
}

/** How one delivery went: `reason` names a failure in fixed words, never a secret. */
export type DeliveryResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string };

export interface WebhookTarget {
  readonly url: string;
  readonly signer: WebhookSigner;
  readonly timeoutMs?: number;
}

/**
 * Posts a signed alert (header `custos-webhook-signature`, signed at `at`); resolves `ok` on a
 * 2xx, otherwise a reason (`HTTP <status>`, `timed out`, `connection failed`; a redirect is not
 * followed). Never throws and never reports the secret or the receiver's reply.
 *
 * @example
 * ```ts
 * const result = await sendWebhook({ url: 'https://hooks.example/x', signer }, body, new Date());
 * ```
 */
export async function sendWebhook(
  target: WebhookTarget,
  body: string,
  at: Date,
): Promise<DeliveryResult> {
  try {
    const { headers } = target.signer.sign({ body, now: at });
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
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
