import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhookVerifier, WEBHOOK_SIGNATURE_HEADER } from '@custos/core/webhooks';
import {
  closedPort,
  type RecordingServer,
  recordingServer,
  type SeenRequest,
} from '@custos/test-support/http';
import { selfSignedCertificate } from '@custos/test-support/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';
import { startSmtpServer, type TestSmtpServer } from '../../test/smtp.js';
import { parseAlertsConfig } from '../config/alerts-config.js';
import { builtInRotators } from '../rotation/built-in-rotators.js';
import type { Rotator } from '../rotation/rotator.js';
import { startServer } from '../server.js';

// Canaries, made at run time: none may appear in a payload, a mail or a log line.
const hex = () => randomBytes(16).toString('hex');
const hookSecret = `canary-hook-${hex()}`;
const smtpPassword = `canary-smtp-${hex()}`;
const kvValue = `canary-kv-${hex()}`;
const badToken = `hvs.canary-token-${hex()}`;
const plaintext = `canary-plain-${hex()}`;
const canaries = [
  hookSecret,
  smtpPassword,
  kvValue,
  badToken,
  plaintext,
  Buffer.from(plaintext).toString('base64'),
  Buffer.from(smtpPassword).toString('base64'),
];
const env = { HOOK_SECRET: hookSecret, SMTP_PW: smtpPassword };

/** Polls `ready` (bounded) until it holds; fails naming `what` otherwise. */
async function until(what: string, ready: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** The value of `name{labels}` in the server's registry (0 when absent). */
async function sample(
  s: { server: { context: TestServer['server']['context'] } },
  name: string,
  labels: Record<string, string>,
) {
  const metric = await s.server.context.metrics.registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return found?.value ?? 0;
}

/** What a receiver does: verify the delivery with custos's webhook verifier (at the signing time: the server clock may be moved). */
const verifier = createWebhookVerifier({ secrets: hookSecret });
async function signed(request: SeenRequest): Promise<boolean> {
  const header = request.headers[WEBHOOK_SIGNATURE_HEADER];
  return verifier
    .verify({ header, body: request.body, now: new Date(JSON.parse(request.body).custos.at) })
    .then(
      () => true,
      () => false,
    );
}

const rulesOf = (hook: RecordingServer) =>
  hook.seen.map((r) => (JSON.parse(r.body) as { custos: { rule: string } }).custos.rule);

/** A webhook receiver that holds every request until `release()`. */
async function heldReceiver() {
  const held: ServerResponse[] = [];
  let seen = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen += 1;
      held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    seen: () => seen,
    release: () => {
      for (const res of held.splice(0)) res.writeHead(204).end();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Everything that left the server or was logged, for the canary checks. */
function everything(hooks: RecordingServer[], smtp: TestSmtpServer, logs: string[]): string {
  return [
    ...hooks.flatMap((h) => h.seen.map((r) => `${JSON.stringify(r.headers)}\n${r.body}`)),
    ...smtp.mails.map((m) => m.raw),
    ...logs,
  ].join('\n');
}

describe('a server with alerts: requests feed the rules, delivery never holds them', () => {
  let dir: string;
  let hook: RecordingServer;
  let held: Awaited<ReturnType<typeof heldReceiver>>;
  let smtp: TestSmtpServer;
  let s: TestServer;
  const logs: string[] = [];
  const failedLogin = () => send(s.url, 'GET', 'secret/data/app', { token: badToken });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-alerts-'));
    const { certFile, keyFile } = selfSignedCertificate(dir);
    hook = await recordingServer(() => ({ status: 200 }));
    held = await heldReceiver();
    smtp = await startSmtpServer({
      tls: { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') },
      login: { user: 'custos', pass: smtpPassword },
    });
    const webhook = (url: string) => ({ type: 'webhook', url, secret_env: 'HOOK_SECRET' });
    const alerts = parseAlertsConfig(
      {
        rate_limit: '1h',
        check_interval: '1h',
        channels: {
          hook: webhook(`${hook.url}/hook`),
          held: webhook(held.url),
          dead: webhook(`http://127.0.0.1:${await closedPort()}/hook`),
          mail: {
            type: 'email',
            host: '127.0.0.1',
            port: smtp.port,
            ca_file: 'cert.pem',
            from: 'custos@example.com',
            to: ['oncall@example.com'],
            username: 'custos',
            password_env: 'SMTP_PW',
          },
        },
        rules: [
          {
            name: 'logins',
            event: 'auth_failure_spike',
            threshold: 10,
            window: '1m',
            channels: ['hook', 'held', 'dead'],
          },
          // A second rule on the same event: rate-limited on its own.
          {
            name: 'logins-mail',
            event: 'auth_failure_spike',
            threshold: 10,
            window: '1m',
            channels: ['mail'],
          },
          {
            name: 'tamper',
            event: 'decryption_failures',
            threshold: 1,
            window: '1m',
            channels: ['hook'],
          },
          { name: 'sealed', event: 'node_sealed', channels: ['hook', 'mail'] },
        ],
      },
      dir,
    );
    s = await startTestServer('sqlite', {
      alerts,
      env,
      logLevel: 'info',
      logDestination: { write: (line) => void logs.push(line) },
    });
    expect(
      (await s.request('POST', 'secret/data/app', { body: { data: { password: kvValue } } }))
        .status,
    ).toBe(200);
  });
  afterAll(async () => {
    await s.close();
    await Promise.all([hook.close(), held.close(), smtp.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('fires auth_failure_spike once per rule for a burst of failed logins, without holding a request', async () => {
    for (let i = 0; i < 25; i++) expect((await failedLogin()).status).toBe(403);
    // Every request is answered while the held receiver has not answered its delivery.
    await until('the held receiver got the alert', () => held.seen() === 1);
    expect(await sample(s, 'custos_alert_deliveries_total', { channel: 'held' })).toBe(0);
    held.release();
    await until(
      'the held delivery completed',
      async () =>
        (await sample(s, 'custos_alert_deliveries_total', {
          channel: 'held',
          outcome: 'delivered',
        })) === 1,
    );
    await until('the webhook got the alert', () => hook.seen.length === 1);
    await smtp.waitFor(1);

    // A second burst within the rate limit: the rules trigger again but are held back.
    for (let i = 0; i < 25; i++) expect((await failedLogin()).status).toBe(403);
    expect(await sample(s, 'custos_alerts_total', { rule: 'logins', outcome: 'fired' })).toBe(1);
    expect(await sample(s, 'custos_alerts_total', { rule: 'logins-mail', outcome: 'fired' })).toBe(
      1,
    );
    expect(
      await sample(s, 'custos_alerts_total', { rule: 'logins', outcome: 'rate_limited' }),
    ).toBeGreaterThan(0);
    expect(rulesOf(hook)).toEqual(['logins']);
    expect(held.seen()).toBe(1);
    expect(smtp.mails).toHaveLength(1);

    const [request] = hook.seen;
    expect(request && (await signed(request))).toBe(true);
    expect(JSON.parse(request?.body ?? '')).toMatchObject({
      text: '[custos] logins: 10 authentication failures within 60s',
      custos: {
        rule: 'logins',
        event: 'auth_failure_spike',
        summary: '10 authentication failures within 60s',
        node: s.url,
      },
    });
    const [mail] = smtp.mails;
    expect(mail?.secure).toBe(true);
    expect(mail?.user).toBe('custos');
    expect(mail?.parsed.subject).toBe(
      '[custos] logins-mail: 10 authentication failures within 60s',
    );
    expect(mail?.parsed.text).toContain(`node:    ${s.url}`);
  });

  it('counts and logs a delivery to an unreachable webhook, naming the channel and why', async () => {
    await until(
      'the dead channel failed',
      async () =>
        (await sample(s, 'custos_alert_deliveries_total', {
          channel: 'dead',
          outcome: 'failed',
        })) === 1,
    );
    const line = logs
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'alert not delivered (failed)');
    expect(line).toMatchObject({ channel: 'dead', rule: 'logins', reason: 'connection failed' });
    // The server still serves.
    expect((await s.request('GET', 'secret/data/app')).status).toBe(200);
  });

  it('fires decryption_failures for a tampered ciphertext', async () => {
    expect((await s.request('POST', 'transit/keys/app')).status).toBeLessThan(300);
    const encrypted = await s.request('POST', 'transit/encrypt/app', {
      body: { plaintext: Buffer.from(plaintext).toString('base64') },
    });
    const raw = Buffer.from(
      (encrypted.body.data.ciphertext as string).slice('vault:v1:'.length),
      'base64',
    );
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    const tampered = `vault:v1:${raw.toString('base64')}`;
    expect(
      (await s.request('POST', 'transit/decrypt/app', { body: { ciphertext: tampered } })).status,
    ).toBe(400);
    await until('the tamper alert', () => rulesOf(hook).includes('tamper'));
    const alert = JSON.parse(hook.seen.at(-1)?.body ?? '');
    expect(alert.custos).toMatchObject({
      event: 'decryption_failures',
      summary: '1 decryption failures within 60s',
    });
  });

  it('fires node_sealed when the node is sealed', async () => {
    expect((await s.request('POST', 'sys/seal')).status).toBe(204);
    await until('the sealed webhook', () => rulesOf(hook).includes('sealed'));
    const mails = await smtp.waitFor(2);
    expect(mails[1]?.parsed.subject).toBe('[custos] sealed: the node is sealed');
  });

  it('never puts a planted secret in a payload, a mail or a log line', () => {
    const out = everything([hook], smtp, logs);
    expect(out).toContain('logins');
    for (const canary of canaries) expect(out).not.toContain(canary);
  });
});

describe('alerts on rotations, audit sinks and overdue secrets', () => {
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
  let dir: string;
  let hook: RecordingServer;
  let s: TestServer;
  let nowMs = Date.now();
  const logs: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-alerts-'));
    hook = await recordingServer(() => ({ status: 200 }));
    const rotators = builtInRotators();
    rotators.register(failingTest);
    const channels = ['hook'];
    s = await startTestServer('sqlite', {
      rotators,
      clock: () => nowMs,
      rotationSchedulerIntervalMs: 0,
      env,
      logLevel: 'info',
      logDestination: { write: (line) => void logs.push(line) },
      audit: [
        { type: 'file', path: '/dev/full', name: 'full' },
        { type: 'file', path: join(dir, 'good.log'), name: 'good' },
      ],
      alerts: parseAlertsConfig(
        {
          rate_limit: '1h',
          check_interval: '1s',
          channels: { hook: { type: 'webhook', url: `${hook.url}/h`, secret_env: 'HOOK_SECRET' } },
          rules: [
            { name: 'rotations', event: 'rotation_failed', channels },
            { name: 'overdue', event: 'rotation_overdue', channels },
            { name: 'sinks', event: 'audit_sink_failing', channels },
            { name: 'sealed', event: 'node_sealed', channels },
          ],
        },
        dir,
      ),
    });
  });
  afterAll(async () => {
    await hook.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('fires audit_sink_failing when a sink fails a write, the server serving on', async () => {
    expect(
      (await s.request('POST', 'secret/data/rot/b', { body: { data: { value: kvValue } } })).status,
    ).toBe(200);
    await until('the sink alert', () => rulesOf(hook).includes('sinks'));
    expect(JSON.parse(hook.seen.at(-1)?.body ?? '').custos.summary).toBe(
      'audit sink "full" failed a write',
    );
  });

  it('fires rotation_failed for a rolled-back rotation', async () => {
    expect(
      (
        await s.request('POST', 'sys/rotation/secret/rot/b', {
          body: { rotator: 'failing-test', schedule: '90d' },
        })
      ).status,
    ).toBe(204);
    const rotated = await s.request('POST', 'sys/rotate-secret/secret/rot/b', {
      body: { force: true },
    });
    expect(rotated.body.data.result).toBe('rolled_back');
    await until('the rotation alert', () => rulesOf(hook).includes('rotations'));
    expect(JSON.parse(hook.seen.at(-1)?.body ?? '').custos.summary).toBe(
      'a rotation ended with "rolled_back"',
    );
  });

  it('fires rotation_overdue from the periodic check once a secret is past due', async () => {
    expect(rulesOf(hook)).not.toContain('overdue');
    nowMs += 91 * 86_400_000;
    await until('the overdue alert', () => rulesOf(hook).includes('overdue'));
    expect(JSON.parse(hook.seen.at(-1)?.body ?? '').custos.summary).toBe('1 rotation(s) overdue');
  });

  it('does not alert the seal a shutdown makes, and leaks no planted secret', async () => {
    await s.close();
    expect(rulesOf(hook)).not.toContain('sealed');
    for (const request of hook.seen) expect(await signed(request)).toBe(true);
    const out = hook.seen.map((r) => r.body).join('\n') + logs.join('\n');
    for (const canary of canaries) expect(out).not.toContain(canary);
  });
});

describe('alerts checked while the server is sealed', () => {
  it('fires certificate_expiring and node_sealed from the periodic checks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-alerts-'));
    const hook = await recordingServer(() => ({ status: 200 }));
    const { certFile, keyFile } = selfSignedCertificate(dir); // valid one day
    const channels = ['hook'];
    const server = await startServer({
      port: 0,
      logLevel: 'silent',
      storage: join(dir, 'custos.db'),
      env,
      tls: { cert: await readFile(certFile), key: await readFile(keyFile) },
      alerts: parseAlertsConfig(
        {
          check_interval: '1s',
          channels: { hook: { type: 'webhook', url: `${hook.url}/h`, secret_env: 'HOOK_SECRET' } },
          rules: [
            { name: 'certs', event: 'certificate_expiring', days: 30, channels },
            { name: 'sealed', event: 'node_sealed', channels },
          ],
        },
        dir,
      ),
    });
    try {
      await until(
        'both alerts',
        () => rulesOf(hook).includes('certs') && rulesOf(hook).includes('sealed'),
      );
      const certs = hook.seen.map((r) => JSON.parse(r.body).custos).find((a) => a.rule === 'certs');
      expect(certs.summary).toBe('certificate "server" expires in 0 day(s)');
    } finally {
      await server.close();
      await hook.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start when a channel secret is missing or weak, naming the channel, never the value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-alerts-'));
    try {
      await expect(
        startServer({
          port: 0,
          logLevel: 'silent',
          env: { SMTP_PW: smtpPassword },
          alerts: parseAlertsConfig(
            {
              channels: {
                hook: {
                  type: 'webhook',
                  url: 'https://hooks.example/h',
                  secret_env: 'HOOK_SECRET',
                },
              },
            },
            dir,
          ),
        }),
      ).rejects.toMatchObject({
        code: 'ERR_INVALID_CONFIG',
        message:
          'config: alerts.channels.hook: the environment variable HOOK_SECRET (secret_env) is not set',
      });
      const weak = 'ab'.repeat(20);
      await expect(
        startServer({
          port: 0,
          logLevel: 'silent',
          env: { HOOK_SECRET: weak },
          alerts: parseAlertsConfig(
            {
              channels: {
                hook: {
                  type: 'webhook',
                  url: 'https://hooks.example/h',
                  secret_env: 'HOOK_SECRET',
                },
              },
            },
            dir,
          ),
        }),
      ).rejects.toMatchObject({
        code: 'ERR_WEAK_SECRET',
        message: expect.stringContaining('the signing secret of alerts.channels.hook'),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
