import { CustosError } from '@custos/core/errors';
import { createWebhookSigner } from '@custos/core/webhooks';
import { ownValue } from '../../lib/own-property.js';
import type { RotationContext, Rotator } from '../rotator.js';
import { fieldOf } from './random.js';
import { randomValue, randomValueSpec } from './random-value.js';

const invalid = (message: string) => new CustosError('ERR_INVALID_REQUEST', message);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

interface WebhookSettings {
  readonly url: string;
  readonly signingPath: string;
  readonly timeoutMs: number;
  readonly retries: number;
}

function settingsOf(settings: Readonly<Record<string, unknown>>): WebhookSettings {
  const url = settings.url;
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || typeof url !== 'string')
    throw invalid('settings.url must be the https:// URL of your rotation endpoint');
  if (
    parsed.protocol !== 'https:' &&
    !(parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname))
  )
    throw invalid('settings.url must be https:// (plain http only to a loopback address)');
  if (parsed.username !== '' || parsed.password !== '')
    throw invalid('settings.url must not hold credentials');
  const signingPath = settings.signing_path;
  if (typeof signingPath !== 'string' || signingPath === '')
    throw invalid(
      'settings.signing_path must be the path of a secret in the same mount whose `value` signs the requests',
    );
  const timeout = settings.timeout_seconds ?? 10;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 120)
    throw invalid('settings.timeout_seconds must be an integer from 1 to 120');
  const retries = settings.retries ?? 2;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > 5)
    throw invalid('settings.retries must be an integer from 0 to 5');
  return { url, signingPath, timeoutMs: timeout * 1000, retries };
}

/** Waits `ms`, or less when `signal` fires. */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Sends one step to the endpoint, signed (`@custos/core/webhooks`: HMAC-SHA256 over time, id
 * and body, header `custos-webhook-signature`) with the secret at `signing_path`; the delivery
 * id is `<rotation id>-<step>`, the same on every retry, so the endpoint can deduplicate. A 2xx
 * answer is success; a 4xx fails at once; a 5xx, a timeout or a network error is retried
 * (`retries`, backing off 0.5 s, 1 s, …). Redirects are refused.
 */
async function deliver(
  context: RotationContext,
  step: string,
  payload: Record<string, unknown>,
): Promise<void> {
  const settings = settingsOf(context.settings);
  const signing = await context.readSecret(settings.signingPath);
  const key = signing === undefined ? undefined : ownValue(signing, 'value');
  if (typeof key !== 'string')
    throw new Error('the signing secret (settings.signing_path) has no value field');
  const signer = createWebhookSigner({ secrets: key });
  const body = JSON.stringify({
    step,
    rotation_id: context.rotationId,
    secret: `${context.secret.mount}/${context.secret.key}`,
    ...payload,
  });
  let last = 'no attempt';
  const stopped = () => {
    // The node no longer holds the rotation (or stops): no further delivery from here.
    if (context.signal.aborted)
      throw new Error(`the ${step} step stopped: the node no longer holds the rotation`);
  };
  for (let attempt = 0; attempt <= settings.retries; attempt++) {
    if (attempt > 0) await abortableDelay(500 * 2 ** (attempt - 1), context.signal);
    stopped();
    const signed = signer.sign({ body, id: `${context.rotationId}-${step}` });
    try {
      const response = await fetch(settings.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signed.headers },
        body,
        redirect: 'error',
        signal: AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), context.signal]),
      });
      await response.body?.cancel();
      if (response.ok) return;
      last = `HTTP ${response.status}`;
      if (response.status < 500) break;
    } catch (err) {
      stopped();
      last = err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'network error';
    }
  }
  stopped();
  // The endpoint's answer body is never quoted: it could echo what it was sent.
  throw new Error(`the rotation endpoint failed the ${step} step (${last})`);
}

/**
 * The `webhook` rotator: custos makes the new value (as `random` does), and an HTTPS endpoint
 * you own applies it to the target system and tests it. Each step is a signed POST of JSON
 * `{ step, rotation_id, secret, pending | previous }` (`set`, `test`, `rollback`, `retire`), a
 * value inside, so only over HTTPS (plain http to loopback only). Verify the signature with
 * `@custos/core/webhooks` (the secret at `signing_path`), and make each step idempotent: a
 * delivery may be repeated (the id `<rotation id>-<step>` stays the same).
 *
 * Settings: `url`, `signing_path`, `timeout_seconds` (default 10), `retries` (default 2), and
 * `field`, `length`, `charset`, `prefix` of the generated value.
 */
export const webhookRotator: Rotator = {
  name: 'webhook',
  checkSettings(settings) {
    settingsOf(settings);
    fieldOf(settings, 'value');
    randomValueSpec(settings);
  },
  async create({ settings, current }) {
    const pending: Record<string, unknown> = { ...current };
    Object.defineProperty(pending, fieldOf(settings, 'value'), {
      value: randomValue(randomValueSpec(settings)),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return pending;
  },
  set: (context) => deliver(context, 'set', { pending: context.pending }),
  test: (context) => deliver(context, 'test', { pending: context.pending }),
  rollback: (context) => deliver(context, 'rollback', { pending: context.pending }),
  retire: (context) => deliver(context, 'retire', { previous: context.previous }),
};
