import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhookVerifier, WEBHOOK_SIGNATURE_HEADER } from '@custos/core/webhooks';
import { closedPort, type RecordingServer, recordingServer } from '@custos/test-support/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

// Canaries, made at run time: neither may appear in any output.
const hookSecret = `canary-hook-${randomBytes(16).toString('hex')}`;
const smtpPassword = `canary-smtp-${randomBytes(8).toString('hex')}`;

describe('custos alerts test', () => {
  let dir: string;
  let config: string;
  let good: RecordingServer;
  let bad: RecordingServer;
  const env = () => ({ SMTP_PW: smtpPassword });
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-alerts-'));
    good = await recordingServer(() => ({ status: 200 }));
    bad = await recordingServer(() => ({ status: 500, body: hookSecret }));
    await writeFile(join(dir, 'hook-secret'), `${hookSecret}\n`, { mode: 0o600 });
    const hook = (url: string) => ({ type: 'webhook', url, secret_file: 'hook-secret' });
    config = join(dir, 'custos.json');
    await writeFile(
      config,
      JSON.stringify({
        storage: join(dir, 'custos.db'),
        audit: [{ type: 'stdout' }],
        alerts: {
          channels: {
            ops: hook(`${good.url}/hook`),
            broken: hook(`${bad.url}/hook`),
            mail: {
              type: 'email',
              host: '127.0.0.1',
              port: await closedPort(),
              from: 'custos@example.com',
              to: ['oncall@example.com'],
              username: 'custos',
              password_env: 'SMTP_PW',
            },
          },
          rules: [
            { name: 'sealed', event: 'node_sealed', channels: ['ops'] },
            {
              name: 'tamper',
              event: 'decryption_failures',
              threshold: 1,
              window: '1m',
              channels: ['broken', 'mail'],
            },
          ],
        },
      }),
    );
  });
  afterAll(async () => {
    await Promise.all([good.close(), bad.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a test alert through one channel: exit 0', { timeout: 30_000 }, async () => {
    const result = await custos(['alerts', 'test', '--config', config, '--channel', 'ops'], {
      env: env(),
    });
    expect(result).toMatchObject({ code: 0, stdout: 'ops (webhook): delivered\n', stderr: '' });
    expect(good.seen).toHaveLength(1);
    const body = JSON.parse(good.seen[0]?.body ?? '');
    expect(body.custos).toMatchObject({ rule: 'test', event: 'test' });
    expect(body.text).toContain('test alert');
    const verified = await createWebhookVerifier({ secrets: hookSecret }).verify({
      header: good.seen[0]?.headers[WEBHOOK_SIGNATURE_HEADER],
      body: good.seen[0]?.body ?? '',
    });
    expect(verified.body.toString()).toBe(good.seen[0]?.body);
  });

  it('names every channel that failed and why: exit 1', { timeout: 30_000 }, async () => {
    const all = await custos(['alerts', 'test', '-c', config], { env: env() });
    expect(all.code).toBe(1);
    expect(all.stdout).toBe('ops (webhook): delivered\n');
    expect(all.stderr).toContain('broken (webhook): failed: HTTP 500');
    expect(all.stderr).toMatch(/mail \(email\): failed: connection failed/);
    const rule = await custos(
      ['alerts', 'test', '-c', config, '--rule', 'tamper', '--format', 'json'],
      {
        env: env(),
      },
    );
    expect(rule.code).toBe(1);
    const report = JSON.parse(rule.stdout);
    expect(report.ok).toBe(false);
    expect(report.results.map((r: { channel: string }) => r.channel)).toEqual(['broken', 'mail']);
    const lastBody = JSON.parse(bad.seen.at(-1)?.body ?? '');
    expect(lastBody.custos).toMatchObject({ rule: 'tamper', event: 'test' });
    expect(lastBody.custos.summary).toContain('decryption_failures');
    for (const r of [all, rule]) {
      expect(output(r)).not.toContain(hookSecret);
      expect(output(r)).not.toContain(smtpPassword);
    }
  });

  it('exits 2 on a usage or configuration error, naming it', { timeout: 30_000 }, async () => {
    const unknown = await custos(['alerts', 'test', '-c', config, '--channel', 'pager'], {
      env: env(),
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'no alert channel named "pager" (channels: "ops", "broken", "mail")',
    );
    const both = await custos([
      'alerts',
      'test',
      '-c',
      config,
      '--channel',
      'ops',
      '--rule',
      'sealed',
    ]);
    expect(both.code).toBe(2);
    expect((await custos(['alerts', 'test'])).code).toBe(2);
    // The password the mail channel names is not set: nothing is sent anywhere.
    const sent = good.seen.length + bad.seen.length;
    const unset = await custos(['alerts', 'test', '-c', config]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain(
      'alerts.channels.mail: the environment variable SMTP_PW (password_env) is not set',
    );
    expect(good.seen.length + bad.seen.length).toBe(sent);
    const bare = join(dir, 'bare.json');
    await writeFile(bare, JSON.stringify({ storage: ':memory:', audit: [{ type: 'stdout' }] }));
    const none = await custos(['alerts', 'test', '-c', bare]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('has no "alerts" section');
    for (const r of [unknown, both, unset, none]) expect(output(r)).not.toContain(hookSecret);
  });
});
