import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Secret } from '../redaction/index.js';
import {
  createWebhookSigner,
  createWebhookVerifier,
  loadWebhookSecrets,
  type WebhookSecretEntry,
} from './index.js';

const current = `CANARY${randomBytes(24).toString('hex')}`;
const previous = `CANARY${randomBytes(24).toString('base64url')}`;
const graceEnd = '2026-12-06T12:00:00Z';

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  const { message, stack } = error as Error;
  expect(`${message}${stack}`).not.toContain('CANARY');
  return error as Error & { code?: string };
}

/** The entries with each secret unwrapped, to compare. */
function revealed(entries: readonly WebhookSecretEntry[]) {
  return entries.map((entry) => {
    expect(entry.secret).toBeInstanceOf(Secret);
    return { ...entry, secret: (entry.secret as Secret<string>).reveal() };
  });
}

describe('loadWebhookSecrets', () => {
  it('reads WEBHOOK_SECRET alone', async () => {
    const secrets = await loadWebhookSecrets({ secrets: { WEBHOOK_SECRET: current } });
    expect(revealed(secrets)).toEqual([{ secret: current, name: 'WEBHOOK_SECRET' }]);
    expect(JSON.stringify(secrets)).not.toContain('CANARY');
  });

  it('reads the previous secret with its grace end, from a getter handing out Secret values', async () => {
    const env: Record<string, string> = {
      WEBHOOK_SECRET: current,
      WEBHOOK_SECRET_PREVIOUS: previous,
      WEBHOOK_SECRET_PREVIOUS_NOT_AFTER: graceEnd,
    };
    const getter = async (name: string) =>
      env[name] === undefined ? undefined : new Secret(env[name]);
    const secrets = await loadWebhookSecrets({ secrets: getter });
    expect(revealed(secrets)).toEqual([
      { secret: current, name: 'WEBHOOK_SECRET' },
      { secret: previous, notAfter: graceEnd, name: 'WEBHOOK_SECRET_PREVIOUS' },
    ]);
    // What a verifier makes of it: the previous secret until the grace end, then retired.
    const verifier = createWebhookVerifier({ secrets, toleranceSeconds: 3600 });
    const body = '{}';
    const before = new Date(Date.parse(graceEnd) - 1000);
    const signed = createWebhookSigner({ secrets: previous }).sign({ body, now: before });
    await expect(
      verifier.verify({ header: signed.header, body, now: before }),
    ).resolves.toBeDefined();
    const refused = await failure(
      verifier.verify({ header: signed.header, body, now: new Date(graceEnd) }),
    );
    expect(refused.code).toBe('ERR_WEBHOOK_SECRET_RETIRED');
    expect(refused.message).toContain('WEBHOOK_SECRET_PREVIOUS');
  });

  it('takes another name, and reads an empty variable as unset', async () => {
    const secrets = await loadWebhookSecrets({
      secrets: { BILLING_HOOK_KEY: current, BILLING_HOOK_KEY_PREVIOUS: '' },
      name: 'BILLING_HOOK_KEY',
    });
    expect(revealed(secrets)).toEqual([{ secret: current, name: 'BILLING_HOOK_KEY' }]);
  });

  it('refuses a missing secret, a previous one without its grace end, a bad grace end', async () => {
    expect((await failure(loadWebhookSecrets({ secrets: {} }))).message).toBe(
      'WEBHOOK_SECRET is not set',
    );
    const noEnd = await failure(
      loadWebhookSecrets({
        secrets: { WEBHOOK_SECRET: current, WEBHOOK_SECRET_PREVIOUS: previous },
      }),
    );
    expect(noEnd.code).toBe('ERR_SECRET_MISSING');
    expect(noEnd.message).toContain('WEBHOOK_SECRET_PREVIOUS_NOT_AFTER');
    const badEnd = await failure(
      loadWebhookSecrets({
        secrets: {
          WEBHOOK_SECRET: current,
          WEBHOOK_SECRET_PREVIOUS: previous,
          WEBHOOK_SECRET_PREVIOUS_NOT_AFTER: 'in three days',
        },
      }),
    );
    expect(badEnd.code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('names the variable of a weak secret when the verifier checks it, never the value', async () => {
    const weak = 'CANARY-change-me-please-change-me-please';
    const secrets = await loadWebhookSecrets({
      secrets: {
        WEBHOOK_SECRET: current,
        WEBHOOK_SECRET_PREVIOUS: weak,
        WEBHOOK_SECRET_PREVIOUS_NOT_AFTER: graceEnd,
      },
    });
    const error = await failure(Promise.resolve().then(() => createWebhookVerifier({ secrets })));
    expect(error).toMatchObject({ code: 'ERR_WEAK_SECRET' });
    expect(error.message).toMatch(/^WEBHOOK_SECRET_PREVIOUS /);
  });
});
