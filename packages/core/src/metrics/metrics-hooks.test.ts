import { randomBytes } from 'node:crypto';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { fakeProvider } from '../../test/fake-provider.js';
import { Keyring } from '../crypto/index.js';
import { createFieldCipher } from '../fields/index.js';
import { createScrubber } from '../redaction/scrubber.js';
import { createSecrets } from '../secrets/index.js';
import {
  createJwksVerifier,
  createMemoryRevocationStore,
  createTokenService,
  JwtKeyset,
} from '../tokens/index.js';
import { type MetricsHooks, openTelemetryMetrics, prometheusMetrics } from './index.js';

const issuer = 'https://issuer.test';
const audience = 'api';

/** The value of `name{labels}` in the registry (0 when absent). */
async function seriesValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const family = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = family?.values.find(
    (v) =>
      Object.keys(v.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return found?.value ?? 0;
}

/** A token refusal with its stable code. */
const rejected = (code: string) => ({ name: 'TokenRejected', code });

/** Exercises every hook through the real components; returns the secrets planted on the way. */
async function exercise(metrics: MetricsHooks): Promise<string[]> {
  const keys = await JwtKeyset.generate('ES256');
  const tokens = createTokenService({
    keys,
    issuer,
    audience,
    revocations: createMemoryRevocationStore(),
    metrics,
  });
  const pair = await tokens.issueTokenPair({ subject: 'alice' });
  await expect(tokens.verifyAccessToken('not.a.jwt')).rejects.toMatchObject(
    rejected('ERR_TOKEN_INVALID'),
  );
  // A refresh token is never an access token.
  await expect(tokens.verifyAccessToken(pair.refreshToken)).rejects.toMatchObject(
    rejected('ERR_TOKEN_WRONG_TYPE'),
  );
  // Signed by a key the service does not hold.
  const stranger = createTokenService({
    keys: await JwtKeyset.generate('ES256'),
    issuer,
    audience,
  });
  const foreign = await stranger.signAccessToken({ subject: 'mallory' });
  await expect(tokens.verifyAccessToken(foreign.token)).rejects.toMatchObject(
    rejected('ERR_TOKEN_KEY_NOT_FOUND'),
  );
  // Revoked, then a refresh token used twice.
  await tokens.revokeToken(pair.accessToken);
  await expect(tokens.verifyAccessToken(pair.accessToken)).rejects.toMatchObject(
    rejected('ERR_TOKEN_REVOKED'),
  );
  await tokens.refresh(pair.refreshToken);
  await expect(tokens.refresh(pair.refreshToken)).rejects.toMatchObject(
    rejected('ERR_TOKEN_REUSED'),
  );
  // A valid token counts nothing.
  const fresh = await tokens.signAccessToken({ subject: 'bob' });
  await tokens.verifyAccessToken(fresh.token);
  tokens.updateKeys(await JwtKeyset.generate('ES256'));
  // The JWKS verifier counts too.
  const jwks = createJwksVerifier({ jwks: keys.toJwks(), issuer, audience, metrics });
  await expect(jwks.verify('x.y.z')).rejects.toMatchObject(rejected('ERR_TOKEN_INVALID'));

  const keyring = new Keyring({ metrics });
  keyring.createKey('default');
  keyring.createKey('deterministic', { algorithm: 'aes-256-gcm-siv' });
  keyring.rotate('default');
  const fields = createFieldCipher({ keyring, metrics });
  const ssn = `123-45-${randomBytes(4).readUInt16BE(0)}`;
  const context = { table: 'patients', column: 'ssn', rowId: 7 };
  const stored = fields.encrypt(ssn, context);
  // Copied to another row: refused, and counted.
  expect(() => fields.decrypt(stored, { ...context, rowId: 8 })).toThrow(
    expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
  );
  expect(fields.decrypt(stored, context)).toBe(ssn);

  const value = randomBytes(24).toString('base64url');
  const provider = fakeProvider({ API_KEY: value });
  const scrubber = createScrubber();
  const cached = createSecrets({
    providers: [provider],
    environment: 'development',
    scrubber,
    metrics,
  });
  await cached.getRequiredSecret('API_KEY'); // miss
  await cached.getRequiredSecret('API_KEY'); // hit
  await cached.getOptionalSecret('API_KEY'); // hit
  cached.close();
  const rotated = randomBytes(24).toString('base64url');
  const uncached = createSecrets({
    providers: [provider],
    environment: 'development',
    scrubber,
    cacheTtlSeconds: 0,
    metrics,
  });
  await uncached.getRequiredSecret('API_KEY'); // miss
  provider.values.set('API_KEY', rotated);
  expect((await uncached.getRequiredSecret('API_KEY')).reveal()).toBe(rotated); // miss, changed
  uncached.close();
  return [pair.accessToken, pair.refreshToken, foreign.token, ssn, stored, value, rotated];
}

describe('prometheusMetrics', () => {
  it('counts JWT failures by reason, field decrypt failures, cache hits and misses, rotations', async () => {
    const registry = new Registry();
    const planted = await exercise(prometheusMetrics(registry));
    const jwt = (reason: string) =>
      seriesValue(registry, 'custos_jwt_verification_failures_total', { reason });
    expect(await jwt('invalid')).toBe(2); // the token service's and the JWKS verifier's
    expect(await jwt('wrong_type')).toBe(1);
    expect(await jwt('key_not_found')).toBe(1);
    expect(await jwt('revoked')).toBe(1);
    expect(await jwt('reused')).toBe(1);
    expect(
      await seriesValue(registry, 'custos_field_decrypt_failures_total', {
        table: 'patients',
        column: 'ssn',
      }),
    ).toBe(1);
    const lookups = (result: string) =>
      seriesValue(registry, 'custos_secret_cache_lookups_total', { result });
    expect(await lookups('hit')).toBe(2);
    expect(await lookups('miss')).toBe(3);
    const rotations = (kind: string) => seriesValue(registry, 'custos_rotations_total', { kind });
    expect(await rotations('keyring_key')).toBe(1);
    expect(await rotations('jwt_keys')).toBe(1);
    expect(await rotations('secret_value')).toBe(1);
    const text = await registry.metrics();
    for (const secret of planted) expect(text).not.toContain(secret);
  });

  it('registers into the registry it is given only, with the prefix asked for', async () => {
    const registry = new Registry();
    prometheusMetrics(registry, { prefix: 'app_' });
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      'app_field_decrypt_failures_total',
      'app_jwt_verification_failures_total',
      'app_rotations_total',
      'app_secret_cache_lookups_total',
    ]);
    // Twice into one registry is refused by prom-client (a name is registered once).
    expect(() => prometheusMetrics(registry, { prefix: 'app_' })).toThrow(
      /already been registered/,
    );
  });
});

describe('openTelemetryMetrics', () => {
  it('counts the same events with OpenTelemetry counters', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    try {
      const planted = await exercise(openTelemetryMetrics(provider.getMeter('test')));
      await reader.forceFlush();
      const points = exporter
        .getMetrics()
        .flatMap((r) => r.scopeMetrics)
        .flatMap((s) => s.metrics)
        .flatMap((m) =>
          m.dataPoints.map((p) => ({
            name: m.descriptor.name,
            attributes: p.attributes,
            value: p.value,
          })),
        );
      const valueAt = (name: string, attributes: Record<string, string>) =>
        points
          .filter(
            (p) => p.name === name && JSON.stringify(p.attributes) === JSON.stringify(attributes),
          )
          .reduce((max, p) => Math.max(max, p.value as number), 0);
      expect(valueAt('custos.jwt.verification_failures', { reason: 'invalid' })).toBe(2);
      expect(valueAt('custos.jwt.verification_failures', { reason: 'reused' })).toBe(1);
      expect(valueAt('custos.field.decrypt_failures', { table: 'patients', column: 'ssn' })).toBe(
        1,
      );
      expect(valueAt('custos.secret_cache.lookups', { result: 'hit' })).toBe(2);
      expect(valueAt('custos.secret_cache.lookups', { result: 'miss' })).toBe(3);
      expect(valueAt('custos.rotations', { kind: 'secret_value' })).toBe(1);
      const exported = JSON.stringify(points);
      for (const secret of planted) expect(exported).not.toContain(secret);
    } finally {
      await provider.shutdown();
    }
  });
});
