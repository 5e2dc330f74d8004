import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseServerConfig } from './server-config.js';

const base = { storage: 'data/custos.db', audit: [{ type: 'stdout' }] };
const parse = (alerts: unknown) => parseServerConfig({ ...base, alerts }, '/etc/custos');
const refusal = (alerts: unknown) => {
  try {
    parse(alerts);
  } catch (err) {
    expect(err).toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    return (err as Error).message;
  }
  throw new Error('accepted');
};
const hook = { type: 'webhook', url: 'https://hooks.example/alert', secret_env: 'ALERT_HMAC' };

describe('the alerts section of the configuration file', () => {
  it('reads rules, channels with named secrets and the rate limit', () => {
    const config = parse({
      rate_limit: '10m',
      channels: {
        ops: hook,
        mail: {
          type: 'email',
          host: 'smtp.example',
          port: 2525,
          from: 'custos@example.com',
          to: ['oncall@example.com'],
          username: 'custos',
          password_file: 'secrets/smtp',
        },
      },
      rules: [
        {
          name: 'logins',
          event: 'auth_failure_spike',
          threshold: 20,
          window: '1m',
          channels: ['ops'],
        },
        {
          name: 'tamper',
          event: 'decryption_failures',
          threshold: 1,
          window: 60,
          channels: ['ops', 'mail'],
        },
        { name: 'certs', event: 'certificate_expiring', days: 14, channels: ['mail'] },
        { name: 'sealed', event: 'node_sealed', channels: ['ops'] },
      ],
    });
    expect(config.alerts).toEqual({
      rateLimitMs: 600_000,
      channels: {
        ops: { type: 'webhook', url: 'https://hooks.example/alert', secret: { env: 'ALERT_HMAC' } },
        mail: {
          type: 'email',
          host: 'smtp.example',
          port: 2525,
          security: 'starttls',
          from: 'custos@example.com',
          to: ['oncall@example.com'],
          username: 'custos',
          password: { file: '/etc/custos/secrets/smtp' },
        },
      },
      checkIntervalMs: 60_000,
      rules: [
        {
          name: 'logins',
          event: { kind: 'auth_failure_spike', threshold: 20, windowMs: 60_000 },
          channels: ['ops'],
        },
        {
          name: 'tamper',
          event: { kind: 'decryption_failures', threshold: 1, windowMs: 60_000 },
          channels: ['ops', 'mail'],
        },
        { name: 'certs', event: { kind: 'certificate_expiring', days: 14 }, channels: ['mail'] },
        { name: 'sealed', event: { kind: 'node_sealed' }, channels: ['ops'] },
      ],
    });
  });

  it('defaults the rate limit to five minutes and leaves alerts out when absent', () => {
    expect(parse({}).alerts?.rateLimitMs).toBe(300_000);
    expect(parse({ check_interval: '10s' }).alerts?.checkIntervalMs).toBe(10_000);
    expect(parseServerConfig(base, '/etc/custos').alerts).toBeUndefined();
  });

  it('reads the SMTP security, its default port and a CA file', () => {
    const mail = { type: 'email', host: 'smtp.example', from: 'a@b.c', to: ['d@e.f'] };
    const channel = (extra: object) => parse({ channels: { mail: { ...mail, ...extra } } }).alerts;
    expect(channel({})?.channels.mail).toMatchObject({ security: 'starttls', port: 587 });
    expect(channel({ security: 'tls', ca_file: 'ca.pem' })?.channels.mail).toMatchObject({
      security: 'tls',
      port: 465,
      caFile: '/etc/custos/ca.pem',
    });
    expect(channel({ security: 'none' })?.channels.mail).toMatchObject({ port: 25 });
  });

  it("takes a webhook URL by name too (a chat tool's URL is a secret), exactly one way", () => {
    const { url: _, ...named } = hook;
    expect(
      parse({ channels: { ops: { ...named, url_env: 'OPS_HOOK_URL' } } }).alerts?.channels.ops,
    ).toMatchObject({ url: { env: 'OPS_HOOK_URL' } });
    expect(
      parse({ channels: { ops: { ...named, url_file: 'hook-url' } } }).alerts?.channels.ops,
    ).toMatchObject({ url: { file: '/etc/custos/hook-url' } });
    expect(refusal({ channels: { ops: { ...hook, url_env: 'OPS_HOOK_URL' } } })).toContain(
      'give one of "url", "url_env" or "url_file"',
    );
    expect(refusal({ channels: { ops: named } })).toContain('give one of');
    const mail = { type: 'email', host: 'smtp.example', from: 'a@b.c', to: ['d@e.f'] };
    expect(refusal({ channels: { mail: { ...mail, url_env: 'X' } } })).toContain(
      '"alerts.channels.mail.url_env" belongs to a webhook channel',
    );
  });

  it('never lets an SMTP password travel unencrypted, nor half of a login', () => {
    const mail = { type: 'email', host: 'smtp.example', from: 'a@b.c', to: ['d@e.f'] };
    const refused = (extra: object) => refusal({ channels: { mail: { ...mail, ...extra } } });
    expect(refused({ security: 'none', username: 'u', password_env: 'SMTP_PW' })).toContain(
      'never sent over an unencrypted connection',
    );
    expect(refused({ username: 'u' })).toContain('a username needs its password');
    expect(refused({ password_env: 'SMTP_PW' })).toContain('a password needs a "username"');
    expect(refused({ security: 'none', ca_file: 'ca.pem' })).toContain('ca_file');
    expect(refused({ security: 'ssl' })).toContain('alerts.channels.mail.security');
    expect(refusal({ channels: { ops: { ...hook, security: 'tls' } } })).toContain(
      'belongs to an email channel',
    );
    expect(refusal({ check_interval: '0s' })).toContain('alerts.check_interval');
  });

  it('refuses a secret or password written inline, without echoing it', () => {
    const canary = 'canary-hmac-7f3a9c';
    const hookMessage = refusal({
      channels: { ops: { ...hook, secret_env: undefined, secret: canary } },
    });
    expect(hookMessage).toContain('alerts.channels.ops.secret');
    expect(hookMessage).not.toContain(canary);
    const mailMessage = refusal({
      channels: {
        mail: {
          type: 'email',
          host: 'h',
          from: 'a@b.c',
          to: ['d@e.f'],
          username: 'u',
          password: canary,
        },
      },
    });
    expect(mailMessage).toContain('password_env');
    expect(mailMessage).not.toContain(canary);
  });

  it('names what is wrong', () => {
    expect(refusal({ channels: { ops: { type: 'webhook', url: 'https://x.example' } } })).toContain(
      'signing secret',
    );
    expect(refusal({ channels: { ops: { ...hook, url: 'ftp://x.example' } } })).toContain(
      'http(s)',
    );
    expect(refusal({ channels: { ops: { ...hook, url: 'https://u:p@x.example' } } })).toContain(
      'credentials',
    );
    expect(
      refusal({
        channels: { ops: hook },
        rules: [{ name: 'r', event: 'node_sealed', channels: ['nope'] }],
      }),
    ).toContain('no channel named "nope"');
    expect(
      refusal({
        channels: { ops: hook },
        rules: [{ name: 'r', event: 'auth_failure_spike', window: '1m', channels: ['ops'] }],
      }),
    ).toContain('threshold');
    expect(
      refusal({
        channels: { ops: hook },
        rules: [{ name: 'r', event: 'node_sealed', threshold: 3, channels: ['ops'] }],
      }),
    ).toContain('belong to');
    expect(
      refusal({
        channels: { ops: hook },
        rules: [{ name: 'r', event: 'certificate_expiring', channels: ['ops'] }],
      }),
    ).toContain('days');
    expect(
      refusal({
        channels: { ops: hook },
        rules: [
          { name: 'r', event: 'node_sealed', channels: ['ops'] },
          { name: 'r', event: 'rotation_failed', channels: ['ops'] },
        ],
      }),
    ).toContain('named twice');
    expect(
      refusal({
        channels: { ops: hook },
        rules: [{ name: 'r', event: 'disk_full', channels: ['ops'] }],
      }),
    ).toContain('alerts.rules.0.event');
    expect(refusal({ rate_limit: 'soon' })).toContain('alerts.rate_limit');
    expect(refusal({ extra: 1 })).toContain('unknown field "alerts.extra"');
    expect(refusal([])).toContain('"alerts" must be an object');
  });
});

describe('docs/alerts.md', () => {
  it('shows a configuration that parses, with every event', async () => {
    const doc = await readFile(new URL('../../../../docs/alerts.md', import.meta.url), 'utf8');
    const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(doc)?.[1] as string);
    const alerts = parse(example.alerts).alerts;
    expect(alerts?.rules.map((r) => r.event.kind).sort()).toEqual([
      'audit_sink_failing',
      'auth_failure_spike',
      'certificate_expiring',
      'decryption_failures',
      'node_sealed',
      'rotation_failed',
      'rotation_overdue',
    ]);
    expect(alerts?.channels.mail).toMatchObject({ security: 'starttls', port: 587 });
  });
});
