import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, kmsClient } from '../../../test/aws.js';
import { send, startTestServer, type TestServer } from '../../../test/harness.js';
import { builtInRotators } from '../../rotation/built-in-rotators.js';
import type { Rotator } from '../../rotation/rotator.js';
import { startServer } from '../../server.js';

/** The value of the series `name{labels}` in a text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      found[key as string] = value as string;
    const wanted = Object.entries(labels);
    if (Object.keys(found).length !== wanted.length) continue;
    if (wanted.every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return 0;
}

async function scrape(s: TestServer, token: string | null = 'root'): Promise<string> {
  const response = await send(s.url, 'GET', 'sys/metrics?format=prometheus', { token });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text;
}

describe('GET /v1/sys/metrics', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { telemetry: { max_key_labels: 2 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('counts requests by route group, method and status, and their latency', async () => {
    const before = await scrape(s);
    for (const i of [1, 2, 3])
      expect(
        (await s.request('POST', `secret/data/m${i}`, { body: { data: { a: i } } })).status,
      ).toBe(200);
    for (const i of [1, 2]) expect((await s.request('GET', `secret/data/m${i}`)).status).toBe(200);
    expect((await s.request('GET', 'secret/data/missing')).status).toBe(404);
    expect((await s.request('GET', 'no-such-route')).status).toBe(404);
    const after = await scrape(s);
    const delta = (labels: Record<string, string>) =>
      sample(after, 'custos_http_requests_total', labels) -
      sample(before, 'custos_http_requests_total', labels);
    expect(delta({ group: 'kv/data', method: 'POST', status: '200' })).toBe(3);
    expect(delta({ group: 'kv/data', method: 'GET', status: '200' })).toBe(2);
    expect(delta({ group: 'kv/data', method: 'GET', status: '404' })).toBe(1);
    expect(delta({ group: 'unmatched', method: 'GET', status: '404' })).toBe(1);
    // The first scrape was counted once it was answered.
    expect(delta({ group: 'sys/metrics', method: 'GET', status: '200' })).toBe(1);
    const count = (text: string) =>
      sample(text, 'custos_http_request_duration_seconds_count', {
        group: 'kv/data',
        method: 'POST',
      });
    expect(count(after) - count(before)).toBe(3);
    expect(
      sample(after, 'custos_http_request_duration_seconds_bucket', {
        group: 'kv/data',
        method: 'POST',
        le: '+Inf',
      }),
    ).toBe(count(after));
  });

  it('counts authentication failures by reason and permission denials by route group', async () => {
    await s.policy('only-a', { 'secret/data/a': ['read'] });
    const limited = await s.token({ policies: ['only-a'] });
    const before = await scrape(s);
    expect((await send(s.url, 'GET', 'secret/data/a', { token: null })).status).toBe(403);
    expect((await send(s.url, 'GET', 'secret/data/a', { token: 'cst.nope' })).status).toBe(403);
    expect((await send(s.url, 'GET', 'secret/data/a', { token: 'bogus' })).status).toBe(403);
    expect((await send(s.url, 'GET', 'secret/data/b', { token: limited })).status).toBe(403);
    expect((await send(s.url, 'GET', 'sys/policies/acl', { token: limited })).status).toBe(403);
    // AppRole at auth/approle/, as the server starts.
    expect(
      (await s.request('POST', 'auth/approle/role/metrics', { body: { token_policies: 'only-a' } }))
        .status,
    ).toBe(204);
    const roleId = (await s.request('GET', 'auth/approle/role/metrics/role-id')).body.data.role_id;
    const secretId = (await s.request('POST', 'auth/approle/role/metrics/secret-id')).body.data
      .secret_id;
    const login = (secret_id: string) =>
      send(s.url, 'POST', 'auth/approle/login', {
        token: null,
        body: { role_id: roleId, secret_id },
      });
    expect((await login(`${secretId}x`)).status).toBe(400);
    expect((await login(secretId)).status).toBe(200);
    const after = await scrape(s);
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('custos_auth_failures_total', { reason: 'missing_token' })).toBe(1);
    expect(delta('custos_auth_failures_total', { reason: 'bad_token' })).toBe(2);
    expect(delta('custos_auth_failures_total', { reason: 'approle_login' })).toBe(1);
    expect(delta('custos_permission_denials_total', { group: 'kv/data' })).toBe(1);
    expect(delta('custos_permission_denials_total', { group: 'sys/policies' })).toBe(1);
  });

  it('counts transit operations by key (bounded by max_key_labels) and tampered ciphertexts', async () => {
    for (const key of ['k1', 'k2', 'k3'])
      expect((await s.request('POST', `transit/keys/${key}`)).status).toBeLessThan(300);
    const before = await scrape(s);
    const plaintext = Buffer.from('hello').toString('base64');
    const encrypt = async (key: string) =>
      (await s.request('POST', `transit/encrypt/${key}`, { body: { plaintext } })).body.data
        .ciphertext as string;
    const c1 = await encrypt('k1');
    await encrypt('k1');
    await encrypt('k2');
    await encrypt('k3');
    // A changed byte in the ciphertext: the decryption fails authentication.
    const body = c1.slice('vault:v1:'.length);
    const raw = Buffer.from(body, 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    const tampered = `vault:v1:${raw.toString('base64')}`;
    expect(
      (await s.request('POST', 'transit/decrypt/k1', { body: { ciphertext: tampered } })).status,
    ).toBe(400);
    const batch = await s.request('POST', 'transit/decrypt/k1', {
      body: { batch_input: [{ ciphertext: tampered }, { ciphertext: c1 }] },
    });
    expect(batch.body.data.batch_results[0].error).toBeDefined();
    const after = await scrape(s);
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    const ops = 'custos_transit_operations_total';
    expect(delta(ops, { key: 'k1', operation: 'encrypt', outcome: 'ok' })).toBe(2);
    expect(delta(ops, { key: 'k2', operation: 'encrypt', outcome: 'ok' })).toBe(1);
    // Only two keys get a label of their own: the third is counted as "other".
    expect(delta(ops, { key: 'other', operation: 'encrypt', outcome: 'ok' })).toBe(1);
    expect(sample(after, ops, { key: 'k3', operation: 'encrypt', outcome: 'ok' })).toBe(0);
    expect(delta(ops, { key: 'k1', operation: 'decrypt', outcome: 'error' })).toBe(2);
    expect(delta(ops, { key: 'k1', operation: 'decrypt', outcome: 'ok' })).toBe(1);
    expect(delta('custos_integrity_failures_total', { source: 'transit' })).toBe(2);
  });

  it('counts the KMS API: its operations as transit operations, a bad signature as an auth failure', async () => {
    await s.policy('kms-metrics', {
      'transit/*': ['create', 'read', 'update'],
      'aws/kms/*': ['create', 'read', 'update'],
    });
    const key = await accessKey(s, ['kms-metrics']);
    const kms = kmsClient(s, key);
    const forged = kmsClient(s, { ...key, secretAccessKey: `${key.secretAccessKey}x` });
    try {
      // k1 has a label of its own (max_key_labels: 2, given to k1 and k2 above).
      const before = await scrape(s);
      await kms.send(new EncryptCommand({ KeyId: 'k1', Plaintext: Buffer.from('via kms') }));
      await expect(
        forged.send(new EncryptCommand({ KeyId: 'k1', Plaintext: Buffer.from('x') })),
      ).rejects.toMatchObject({ name: 'InvalidSignatureException' });
      const after = await scrape(s);
      const delta = (name: string, labels: Record<string, string>) =>
        sample(after, name, labels) - sample(before, name, labels);
      expect(
        delta('custos_transit_operations_total', {
          key: 'k1',
          operation: 'encrypt',
          outcome: 'ok',
        }),
      ).toBe(1);
      expect(delta('custos_auth_failures_total', { reason: 'bad_signature' })).toBe(1);
    } finally {
      kms.destroy();
      forged.destroy();
    }
  });

  it('counts a request the mount catch-all serves (KV version 1) as that group', async () => {
    expect(
      (
        await s.request('POST', 'sys/mounts/kv1', {
          body: { type: 'kv', options: { version: '1' } },
        })
      ).status,
    ).toBe(204);
    const before = await scrape(s);
    expect((await s.request('POST', 'kv1/a', { body: { x: '1' } })).status).toBe(204);
    // A KV version 2 route's pattern matches, but version 1 serves it.
    expect((await s.request('GET', 'kv1/data/a')).status).toBe(404);
    const after = await scrape(s);
    const delta = (labels: Record<string, string>) =>
      sample(after, 'custos_http_requests_total', labels) -
      sample(before, 'custos_http_requests_total', labels);
    expect(delta({ group: 'mount catch-all', method: 'POST', status: '204' })).toBe(1);
    expect(delta({ group: 'mount catch-all', method: 'GET', status: '404' })).toBe(1);
    expect(delta({ group: 'kv/data', method: 'GET', status: '404' })).toBe(0);
  });

  it('exports the seal state, the node count and cache hit ratios', async () => {
    await s.request('GET', 'secret/data/m1');
    const text = await scrape(s);
    expect(sample(text, 'custos_sealed')).toBe(0);
    expect(sample(text, 'custos_cluster_nodes')).toBe(1);
    const hits = sample(text, 'custos_cache_lookups_total', { cache: 'token', result: 'hit' });
    const misses = sample(text, 'custos_cache_lookups_total', { cache: 'token', result: 'miss' });
    expect(hits).toBeGreaterThan(0);
    expect(sample(text, 'custos_cache_hit_ratio', { cache: 'token' })).toBeCloseTo(
      hits / (hits + misses),
      10,
    );
    expect(text).toMatch(/^custos_cache_hit_ratio\{cache="policy"\} /m);
    // Every family is custos_'s own.
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#')))
      expect(line.startsWith('custos_')).toBe(true);
  });

  it("answers Vault's JSON form without format, and refuses an unknown format", async () => {
    await s.request('GET', 'secret/data/m1');
    const response = await s.request('GET', 'sys/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const { Gauges, Counters, Samples, Timestamp } = response.body;
    expect(Number.isNaN(Date.parse(Timestamp))).toBe(false);
    expect(Gauges).toContainEqual({ Name: 'custos_sealed', Value: 0, Labels: {} });
    const reads = Counters.find(
      (c: { Name: string; Labels: Record<string, string> }) =>
        c.Name === 'custos_http_requests_total' &&
        c.Labels.group === 'kv/data' &&
        c.Labels.method === 'GET' &&
        c.Labels.status === '200',
    );
    expect(reads.Count).toBeGreaterThanOrEqual(1);
    expect(reads.Sum).toBe(reads.Count);
    const latency = Samples.find(
      (c: { Name: string; Labels: Record<string, string> }) =>
        c.Name === 'custos_http_request_duration_seconds' &&
        c.Labels.group === 'kv/data' &&
        c.Labels.method === 'GET',
    );
    expect(latency.Count).toBe(
      Counters.filter(
        (c: { Name: string; Labels: Record<string, string> }) =>
          c.Name === 'custos_http_requests_total' &&
          c.Labels.group === 'kv/data' &&
          c.Labels.method === 'GET',
      ).reduce((sum: number, c: { Count: number }) => sum + c.Count, 0),
    );
    expect(latency.Mean).toBeCloseTo(latency.Sum / latency.Count, 10);
    for (const format of ['json', 'Prometheus', 'prometheus ']) {
      const refused = await s.request('GET', `sys/metrics?format=${encodeURIComponent(format)}`);
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0]).toMatch(/format must be "prometheus"/);
    }
  });

  it('is guarded by the ACL: read on sys/metrics, no other spelling, no token refused', async () => {
    await s.policy('metrics-read', { 'sys/metrics': ['read'] });
    await s.policy('metrics-list', { 'sys/metrics/*': ['read', 'list'], 'sys/metric': ['read'] });
    const reader = await s.token({ policies: ['metrics-read'] });
    const other = await s.token({ policies: ['metrics-list'] });
    expect((await send(s.url, 'GET', 'sys/metrics', { token: reader })).status).toBe(200);
    await scrape(s, reader);
    for (const token of [other, null, 'cst.unknown'])
      expect((await send(s.url, 'GET', 'sys/metrics?format=prometheus', { token })).status).toBe(
        403,
      );
    // Other spellings are other paths (unrouted), never the metrics.
    for (const path of [
      'sys/metrics/',
      'sys/Metrics',
      'sys//metrics',
      'sys/metrics%2F',
      'SYS/metrics',
    ])
      expect((await send(s.url, 'GET', path, { token: other })).text).not.toContain('custos_');
    // Only GET: no write or list reaches the route (a reader may not write there; root finds
    // no such route).
    expect((await send(s.url, 'POST', 'sys/metrics', { token: reader, body: {} })).status).toBe(
      403,
    );
    const post = await s.request('POST', 'sys/metrics', { body: {} });
    expect(post.status).toBe(404);
    expect(post.text).not.toContain('custos_');
    expect((await s.request('GET', 'sys/metrics?list=true')).status).toBe(405);
  });

  it('never puts a secret value or a raw path in a label', async () => {
    const value = 'canary-metrics-value-5d1e8b2f7a93';
    const inPath = 'canary-metrics-path-0c4a9e6b3d27';
    expect(
      (await s.request('POST', 'secret/data/app', { body: { data: { password: value } } })).status,
    ).toBe(200);
    expect(
      (await s.request('POST', `secret/data/${inPath}`, { body: { data: { a: 1 } } })).status,
    ).toBe(200);
    await s.request('GET', `secret/data/${inPath}`);
    await send(s.url, 'GET', `secret/data/${inPath}`, { token: 'bogus' });
    await s.request('GET', `${inPath}/x`);
    await s.request('POST', `transit/encrypt/${inPath}`, {
      body: { plaintext: Buffer.from(value).toString('base64') },
    });
    const text = await scrape(s);
    const json = (await s.request('GET', 'sys/metrics')).text;
    for (const out of [text, json]) {
      expect(out).not.toContain(value);
      expect(out).not.toContain(inPath);
      expect(out).not.toContain('secret/data');
    }
  });
});

describe('telemetry.unauthenticated_metrics_access', () => {
  it('opens sys/metrics to scrapers without a token, also while sealed', async () => {
    const s = await startTestServer('sqlite', {
      telemetry: { unauthenticated_metrics_access: true },
    });
    try {
      expect(sample(await scrape(s, null), 'custos_sealed')).toBe(0);
      // A bad token is not looked at either.
      expect((await send(s.url, 'GET', 'sys/metrics', { token: 'bogus' })).status).toBe(200);
      expect((await s.request('POST', 'sys/seal')).status).toBe(204);
      const sealed = await scrape(s, null);
      expect(sample(sealed, 'custos_sealed')).toBe(1);
      // A sealed node has left the cluster's node list and reads none.
      expect(sample(sealed, 'custos_cluster_nodes')).toBe(0);
      // Other routes stay sealed.
      expect((await send(s.url, 'GET', 'secret/data/a', { token: null })).status).toBe(503);
    } finally {
      await s.close();
    }
  });
});

describe('telemetry.max_key_labels', () => {
  it('refuses a bound that is not a non-negative integer before opening anything', async () => {
    for (const max_key_labels of [-1, 1.5, Number.NaN])
      await expect(
        startServer({ port: 0, logLevel: 'silent', telemetry: { max_key_labels } }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
  });
});

describe('audit sink failures', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-metrics-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are counted by sink while another sink keeps the server serving', async () => {
    const s = await startTestServer('sqlite', {
      audit: [
        { type: 'file', path: '/dev/full', name: 'full' },
        { type: 'file', path: join(dir, 'good.log'), name: 'good' },
      ],
    });
    try {
      // Read from the registry itself: a scrape is audited too.
      const failures = async (sink: string) =>
        sample(
          await s.server.context.metrics.registry.metrics(),
          'custos_audit_sink_failures_total',
          {
            sink,
          },
        );
      const before = await failures('full');
      expect((await s.request('POST', 'secret/data/x', { body: { data: { a: 1 } } })).status).toBe(
        200,
      );
      // The request is answered once one sink wrote each entry: the other's failure may come after.
      for (let i = 0; i < 200 && (await failures('full')) - before < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 5));
      // The write's request and response entries.
      expect((await failures('full')) - before).toBe(2);
      expect(await failures('good')).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe('rotation metrics', () => {
  /** A rotator whose test step fails: the engine rolls the rotation back. */
  const failingTest: Rotator = {
    name: 'failing-test',
    checkSettings: () => {},
    create: async ({ current }) => ({ ...current, value: 'next' }),
    set: async () => {},
    test: async () => {
      throw new Error('the target refused the new value');
    },
  };

  it('counts rotations by result and the secrets overdue at the server clock', async () => {
    let nowMs = Date.now();
    const rotators = builtInRotators();
    rotators.register(failingTest);
    const s = await startTestServer('sqlite', {
      rotators,
      clock: () => nowMs,
      rotationSchedulerIntervalMs: 0,
    });
    try {
      for (const key of ['rot/a', 'rot/b']) {
        const written = await s.request('POST', `secret/data/${key}`, {
          body: { data: { value: 'first' } },
        });
        expect(written.status).toBe(200);
      }
      const policy = (key: string, rotator: string) =>
        s.request('POST', `sys/rotation/secret/${key}`, { body: { rotator, schedule: '90d' } });
      expect((await policy('rot/a', 'random')).status).toBe(204);
      expect((await policy('rot/b', 'failing-test')).status).toBe(204);
      const before = await scrape(s);
      expect(sample(before, 'custos_rotation_overdue_secrets')).toBe(0);
      const rotate = (key: string) =>
        s.request('POST', `sys/rotate-secret/secret/${key}`, { body: { force: true } });
      expect((await rotate('rot/a')).body.data.result).toBe('succeeded');
      expect((await rotate('rot/b')).body.data.result).toBe('rolled_back');
      // A plan is not a rotation.
      const plan = await s.request('POST', 'sys/rotate-secret/secret/rot/a', {
        body: { force: true, dry_run: true },
      });
      expect(plan.body.data.result).toBe('planned');
      const after = await scrape(s);
      const delta = (result: string) =>
        sample(after, 'custos_rotations_total', { result }) -
        sample(before, 'custos_rotations_total', { result });
      expect(delta('succeeded')).toBe(1);
      expect(delta('rolled_back')).toBe(1);
      expect(delta('planned')).toBe(0);
      // 91 days on: both are past their 90-day schedule (b never rotated successfully).
      nowMs += 91 * 86_400_000;
      expect(sample(await scrape(s), 'custos_rotation_overdue_secrets')).toBe(2);
    } finally {
      await s.close();
    }
  });
});
