import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '@custos/test-support/http';
import { selfSignedCertificate } from '@custos/test-support/tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from '../../test/smtp.js';
import type { AlertsConfig } from '../config/alerts-config.js';
import { openAlertChannels } from './alert-channels.js';
import type { Alert } from './alert-evaluator.js';
import { createEmailSender, type EmailTarget } from './email-delivery.js';

// Made at run time: no literal that looks like a credential sits in the repository.
const password = `canary-smtp-pw-${randomBytes(6).toString('hex')}`;
const alert: Alert = {
  rule: 'logins',
  event: 'auth_failure_spike',
  summary: '20 authentication failures within 60s',
  channels: ['mail'],
};
let dir: string;
let tls: { cert: string; key: string };
let smtp: TestSmtpServer | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-smtp-'));
  const { certFile, keyFile } = selfSignedCertificate(dir);
  tls = { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(async () => {
  await smtp?.close();
  smtp = undefined;
});

const target = (port: number, extra: Partial<EmailTarget> = {}): EmailTarget => ({
  host: '127.0.0.1',
  port,
  security: 'starttls',
  ca: tls.cert,
  from: 'custos@example.com',
  to: ['oncall@example.com', 'backup@example.com'],
  auth: { user: 'custos', pass: password },
  timeoutMs: 5000,
  ...extra,
});

describe('email alert delivery (SMTP, nodemailer)', () => {
  it('sends over STARTTLS, authenticated, with the summary and without the password', async () => {
    smtp = await startSmtpServer({ tls, login: { user: 'custos', pass: password } });
    const sender = createEmailSender(target(smtp.port));
    expect(await sender.send(alert, 'node-1', new Date())).toEqual({ ok: true });
    const [mail] = await smtp.waitFor(1);
    expect(mail?.secure).toBe(true);
    expect(mail?.user).toBe('custos');
    expect(mail?.from).toBe('custos@example.com');
    expect(mail?.to).toEqual(['oncall@example.com', 'backup@example.com']);
    expect(mail?.parsed.subject).toBe(`[custos] logins: ${alert.summary}`);
    expect(mail?.parsed.text).toContain(alert.summary);
    expect(mail?.parsed.text).toContain('event:   auth_failure_spike');
    expect(mail?.parsed.text).toContain('node:    node-1');
    expect(mail?.raw).not.toContain(password);
    expect(mail?.raw).not.toContain(Buffer.from(password).toString('base64'));
    expect(smtp.logins).toEqual([{ user: 'custos', pass: password, secure: true }]);
    sender.close();
  });

  it('sends with TLS from the first byte (security "tls")', async () => {
    smtp = await startSmtpServer({
      tls,
      implicitTls: true,
      login: { user: 'custos', pass: password },
    });
    const sender = createEmailSender(target(smtp.port, { security: 'tls' }));
    expect(await sender.send(alert, 'n', new Date())).toEqual({ ok: true });
    expect((await smtp.waitFor(1))[0]?.secure).toBe(true);
    expect(smtp.logins).toEqual([{ user: 'custos', pass: password, secure: true }]);
    sender.close();
  });

  it('sends in clear to a local relay only with security "none" and no password', async () => {
    smtp = await startSmtpServer();
    const { auth: _, ...noAuth } = target(smtp.port, { security: 'none' });
    expect(await createEmailSender(noAuth).send(alert, 'n', new Date())).toEqual({ ok: true });
    expect((await smtp.waitFor(1))[0]?.secure).toBe(false);
  });

  it('refuses to send (or log in) when the server offers no STARTTLS', async () => {
    smtp = await startSmtpServer({
      tls,
      hideStartTls: true,
      login: { user: 'custos', pass: password },
    });
    const result = await createEmailSender(target(smtp.port)).send(alert, 'n', new Date());
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.reason).toMatch(/TLS/);
    expect(result.ok === false && result.reason).not.toContain(password);
    expect(smtp.logins).toEqual([]);
    expect(smtp.mails).toEqual([]);
  });

  it("refuses a certificate that does not chain to the channel's CA, before logging in", async () => {
    smtp = await startSmtpServer({ tls, login: { user: 'custos', pass: password } });
    const { ca: _, ...nodeRoots } = target(smtp.port);
    const result = await createEmailSender(nodeRoots).send(alert, 'n', new Date());
    expect(result).toEqual({
      ok: false,
      reason: expect.stringMatching(/certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/),
    });
    expect(smtp.logins).toEqual([]);
    expect(smtp.mails).toEqual([]);
  });

  it('names a refused login without the password or the server reply', async () => {
    smtp = await startSmtpServer({ tls, login: { user: 'custos', pass: `${password}-other` } });
    const result = await createEmailSender(target(smtp.port)).send(alert, 'n', new Date());
    expect(result).toEqual({ ok: false, reason: 'authentication refused (EAUTH, SMTP 535)' });
    expect(smtp.mails).toEqual([]);
  });

  it('names a connection that fails', async () => {
    const port = await closedPort();
    const result = await createEmailSender(target(port)).send(alert, 'n', new Date());
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^connection failed/) });
  });
});

describe('email channels from the configuration', () => {
  const config = (port: number, env: string): Pick<AlertsConfig, 'channels'> => ({
    channels: {
      mail: {
        type: 'email',
        host: '127.0.0.1',
        port,
        security: 'starttls',
        caFile: join(dir, 'cert.pem'),
        from: 'custos@example.com',
        to: ['oncall@example.com'],
        username: 'custos',
        password: { env },
      },
    },
  });

  it('reads the password from the environment and the CA from its file', async () => {
    smtp = await startSmtpServer({ tls, login: { user: 'custos', pass: password } });
    const channels = await openAlertChannels(config(smtp.port, 'SMTP_PW'), {
      env: { SMTP_PW: password },
    });
    expect(channels.list).toEqual([{ name: 'mail', type: 'email' }]);
    expect(await channels.send('mail', alert, 'n', new Date())).toEqual({ ok: true });
    expect(await smtp.waitFor(1)).toHaveLength(1);
    channels.close();
  });

  it('stops at a missing password or CA file, naming where it was looked for', async () => {
    await expect(openAlertChannels(config(25, 'SMTP_PW'), { env: {} })).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      message: expect.stringContaining(
        'alerts.channels.mail: the environment variable SMTP_PW (password_env) is not set',
      ),
    });
    const missingCa = config(25, 'SMTP_PW');
    const mail = missingCa.channels.mail as Extract<
      AlertsConfig['channels'][string],
      { type: 'email' }
    >;
    await expect(
      openAlertChannels(
        { channels: { mail: { ...mail, caFile: join(dir, 'nope.pem') } } },
        { env: { SMTP_PW: password } },
      ),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      message: expect.stringMatching(/cannot read ca_file .*nope\.pem: ENOENT/),
    });
  });
});
