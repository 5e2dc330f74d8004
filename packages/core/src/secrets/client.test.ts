import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeProvider } from '../../test/fake-provider.js';
import { isCustosError } from '../errors/index.js';
import { createScrubber } from '../redaction/scrubber.js';
import { Secret } from '../redaction/secret.js';
import { createSecrets, type SecretsOptions } from './client.js';
import { SecretMissing, SecretsInvalid, WeakSecret } from './problems.js';
import { processEnv } from './provider-env.js';
import { defineSecrets, secret } from './schema.js';

const strong = () => randomBytes(32).toString('base64url');

function make(values: Record<string, string>, options: Partial<SecretsOptions> = {}) {
  const provider = fakeProvider(values);
  const warnings: string[] = [];
  const scrubber = createScrubber();
  const secrets = createSecrets({
    providers: [provider],
    environment: 'development',
    onWarning: (m) => warnings.push(m),
    scrubber,
    ...options,
  });
  return { provider, warnings, scrubber, secrets };
}

describe('createSecrets', () => {
  it('returns required and optional secrets wrapped, and registers them with the scrubber', async () => {
    const value = strong();
    const { secrets, scrubber } = make({ DB_PASSWORD: value });
    const password = await secrets.getRequiredSecret('DB_PASSWORD');
    expect(password).toBeInstanceOf(Secret);
    expect(password.reveal()).toBe(value);
    expect(await secrets.getOptionalSecret('SLACK_WEBHOOK_URL')).toBeUndefined();
    expect(scrubber.redact(`password=${value}`)).toBe('password=[REDACTED]');
  });

  it('throws ERR_SECRET_MISSING naming the variable and the providers searched', async () => {
    const { secrets } = make({});
    const error = await secrets.getRequiredSecret('JWT_SECRET').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretMissing);
    expect(error).toMatchObject({
      code: 'ERR_SECRET_MISSING',
      secretName: 'JWT_SECRET',
      message: 'JWT_SECRET is not set (looked in: fake)',
    });
    const empty = make({ JWT_SECRET: '' }).secrets;
    await expect(empty.getRequiredSecret('JWT_SECRET')).rejects.toBeInstanceOf(SecretMissing);
  });

  it('serves the cached value from the same resolved promise (no work on the hot path)', async () => {
    const { secrets, provider } = make({ JWT_SECRET: strong() });
    const first = secrets.getRequiredSecret('JWT_SECRET');
    await first;
    const again = secrets.getRequiredSecret('JWT_SECRET');
    expect(secrets.getRequiredSecret('JWT_SECRET')).toBe(again);
    expect(provider.calls.get('JWT_SECRET')).toBe(1);
  });

  it('makes one provider call for 1,000 concurrent getRequiredSecret misses', async () => {
    const { secrets, provider } = make({ JWT_SECRET: strong() });
    const values = await Promise.all(
      Array.from({ length: 1000 }, () => secrets.getRequiredSecret('JWT_SECRET')),
    );
    expect(provider.calls.get('JWT_SECRET')).toBe(1);
    expect(new Set(values).size).toBe(1);
  });

  it('checks a value against its rule once: warns in development, refuses in production', async () => {
    const rule = secret({ minBytes: 32 });
    const dev = make({ JWT_SECRET: 'Zq8nV2wL5pR9xk3M' });
    await dev.secrets.getRequiredSecret('JWT_SECRET', rule);
    await dev.secrets.getRequiredSecret('JWT_SECRET', rule);
    expect(dev.warnings).toEqual(['JWT_SECRET: too short: 16 of 32 bytes']);

    const prod = make({ JWT_SECRET: 'Zq8nV2wL5pR9xk3M' }, { environment: 'production' });
    const error = await prod.secrets.getRequiredSecret('JWT_SECRET', rule).catch((e) => e);
    expect(error).toBeInstanceOf(WeakSecret);
    expect(error).toMatchObject({
      code: 'ERR_WEAK_SECRET',
      message: 'JWT_SECRET: too short: 16 of 32 bytes',
    });
  });

  it('refuses blacklisted values in production even without a rule', async () => {
    const prod = make(
      { DB_PASSWORD: 'changeme', STRIPE_KEY: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' },
      { environment: 'production' },
    );
    await expect(prod.secrets.getRequiredSecret('DB_PASSWORD')).rejects.toMatchObject({
      code: 'ERR_WEAK_SECRET',
    });
    await expect(prod.secrets.getOptionalSecret('STRIPE_KEY')).rejects.toMatchObject({
      code: 'ERR_WEAK_SECRET',
    });
    const dev = make({ STRIPE_KEY: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc' });
    expect(await dev.secrets.getRequiredSecret('STRIPE_KEY')).toBeInstanceOf(Secret);
    expect(dev.warnings).toEqual([]);
  });

  describe('production gate', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('refuses the plain process environment unless allowed', () => {
      expect(() => createSecrets({ providers: [processEnv()], environment: 'production' })).toThrow(
        expect.objectContaining({ code: 'ERR_INSECURE_PROVIDER' }),
      );
      expect(() =>
        createSecrets({
          providers: [processEnv({ allowInProduction: true })],
          environment: 'production',
        }),
      ).not.toThrow();
      expect(() =>
        createSecrets({ providers: [processEnv()], environment: 'staging' }),
      ).not.toThrow();
    });

    it('follows NODE_ENV when no environment is given, and the defaults are refused there', () => {
      vi.stubEnv('NODE_ENV', 'production');
      expect(() => createSecrets()).toThrow(
        expect.objectContaining({ code: 'ERR_INSECURE_PROVIDER' }),
      );
      vi.stubEnv('NODE_ENV', 'development');
      const secrets = createSecrets();
      expect(secrets).toMatchObject({ environment: 'development', production: false });
      secrets.close();
    });
  });

  it('loads a schema, failing once with every problem', async () => {
    const schema = defineSecrets({
      JWT_SECRET: secret({ minBytes: 32 }),
      DB_PASSWORD: secret(),
      EMAIL_ENABLED: secret({ sensitive: false, optional: true }),
      SMTP_PASS: secret({ requiredWhen: { EMAIL_ENABLED: 'true' } }),
      PORT: secret({ sensitive: false }),
    });
    const good = make({ JWT_SECRET: strong(), DB_PASSWORD: strong(), PORT: '8080' });
    const config = await good.secrets.load(schema);
    expect(config.JWT_SECRET.reveal()).toHaveLength(43);
    expect(config.PORT).toBe('8080');
    expect(config.SMTP_PASS).toBeUndefined();
    expect(good.scrubber.size).toBe(2); // the two secrets, not PORT

    const bad = make(
      { JWT_SECRET: 'tooshort-9a8b7c', EMAIL_ENABLED: 'true', DB_PASSWORD: 'Qwerty123!' },
      { environment: 'production' },
    );
    const error = await bad.secrets.load(schema).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretsInvalid);
    expect((error as SecretsInvalid).message).toBe(
      [
        'secrets configuration has 4 problems:',
        '  - JWT_SECRET: too short: 15 of 32 bytes',
        '  - DB_PASSWORD: known weak value (a common or default password, or made of little but common words)',
        '  - SMTP_PASS: missing (required when EMAIL_ENABLED=true)',
        '  - PORT: missing',
      ].join('\n'),
    );
  });

  it('reports a failing provider as unreadable in load, and as ERR_SECRET_PROVIDER in get', async () => {
    const { secrets, provider } = make({});
    provider.failWith = new Error('connection refused');
    const error = await secrets.getRequiredSecret('X_TOKEN').catch((e: unknown) => e);
    expect(isCustosError(error, 'ERR_SECRET_PROVIDER')).toBe(true);
    expect((error as Error).message).toBe(
      'provider "fake" failed to read X_TOKEN: connection refused',
    );
    const loaded = await secrets
      .load(defineSecrets({ X_TOKEN: secret() }))
      .catch((e: SecretsInvalid) => e);
    expect((loaded as SecretsInvalid).problems).toEqual([
      {
        name: 'X_TOKEN',
        kind: 'unreadable',
        detail:
          'unreadable: provider "fake" failed to read X_TOKEN: connection refused [ERR_SECRET_PROVIDER]',
      },
    ]);
  });

  it('serves the last good value when the provider fails, with a warning', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { secrets, provider, warnings } = make({ API_TOKEN: strong() }, { cacheTtlSeconds: 60 });
    const first = await secrets.getRequiredSecret('API_TOKEN');
    provider.failWith = new Error('timeout');
    vi.advanceTimersByTime(61_000);
    expect(await secrets.getRequiredSecret('API_TOKEN')).toBe(first);
    vi.useRealTimers();
    expect(warnings).toEqual([
      'serving the last good value of API_TOKEN: provider "fake" failed to read API_TOKEN: timeout [ERR_SECRET_PROVIDER]',
    ]);
  });

  it('calls onChange listeners when a watched value changes, on the timer and on watch', async () => {
    vi.useFakeTimers({
      toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'],
    });
    try {
      const { secrets, provider } = make(
        { JWT_SECRET: 'first-value-000000000000000000000' },
        {
          cacheTtlSeconds: 60,
        },
      );
      const seen: (string | undefined)[] = [];
      const stop = secrets.onChange('JWT_SECRET', (value) => seen.push(value?.reveal()));
      await vi.waitFor(() => expect(provider.calls.get('JWT_SECRET')).toBe(1));
      provider.values.set('JWT_SECRET', 'second-value-00000000000000000000');
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(() => expect(seen).toEqual(['second-value-00000000000000000000']));
      provider.values.set('JWT_SECRET', 'third-value-000000000000000000000');
      provider.notify(['JWT_SECRET', 'UNWATCHED']);
      await vi.waitFor(() => expect(seen).toHaveLength(2));
      expect(seen[1]).toBe('third-value-000000000000000000000');
      expect(provider.calls.get('UNWATCHED')).toBeUndefined();
      stop();
      provider.values.set('JWT_SECRET', 'fourth-value-00000000000000000000');
      provider.notify(['JWT_SECRET']);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(seen).toHaveLength(2);
      secrets.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a throwing listener from breaking refreshes', async () => {
    const { secrets, provider, warnings } = make({ KEY_A: 'value-a-000000000000000' });
    secrets.onChange('KEY_A', () => {
      throw new Error('listener bug');
    });
    await vi.waitFor(() => expect(provider.calls.get('KEY_A')).toBe(1));
    provider.values.set('KEY_A', 'value-b-000000000000000');
    provider.notify(['KEY_A']);
    await vi.waitFor(() =>
      expect(warnings).toEqual(['onChange listener for KEY_A threw: listener bug']),
    );
    secrets.close();
  });

  it('refuses nonsense options', () => {
    expect(() => createSecrets({ providers: [], cacheTtlSeconds: -1 })).toThrow(/cacheTtlSeconds/);
    expect(() => createSecrets({ providers: [], cacheTtlSeconds: 30 * 86_400 })).toThrow(
      'cacheTtlSeconds must be from 0 to 604800 seconds',
    );
    expect(() => createSecrets({ providers: [], staleIfErrorSeconds: Number.NaN })).toThrow(
      /staleIfErrorSeconds/,
    );
  });
});
