import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fakeProvider } from '../../test/fake-provider.js';
import { createScrubber, REDACTED } from '../redaction/scrubber.js';
import { createSecrets } from './client.js';
import { defineSecrets, secret } from './schema.js';
import { urlSecretParts } from './url-secrets.js';

describe('urlSecretParts', () => {
  it('finds the password of the user-info, as written and decoded', () => {
    expect(urlSecretParts('postgres://app:s3cr%21t-pw@db:5432/app')).toEqual({
      password: 's3cr!t-pw',
      parts: ['s3cr%21t-pw', 's3cr!t-pw'],
    });
    expect(urlSecretParts('redis://:cache-password@cache:6379')?.password).toBe('cache-password');
    // Too short to be scrubbed alone: registered with its user name in front.
    expect(urlSecretParts('postgres://app:pw@db/app')).toEqual({
      password: 'pw',
      parts: ['app:pw'],
    });
    // Several hosts: the WHATWG parser may refuse it; the user-info is still found.
    expect(urlSecretParts('mongodb://u:mongo-pw-123@h1:1,h2:2/db?replicaSet=rs')?.password).toBe(
      'mongo-pw-123',
    );
  });

  it('finds query parameters named like secrets, and known webhook URLs', () => {
    expect(
      urlSecretParts('https://api.test/v1?access_token=tok-123456&page=2&api_key=key-abcdef'),
    ).toEqual({ password: undefined, parts: ['tok-123456', 'key-abcdef'] });
    for (const webhook of [
      'https://hooks.slack.com/services/T0/B0/abcdef123456',
      'https://discord.com/api/webhooks/123/abcdef',
      'https://contoso.webhook.office.com/webhookb2/abc',
      'https://api.telegram.org/bot123:abc/sendMessage',
    ]) {
      const { pathname } = new URL(webhook);
      expect(urlSecretParts(webhook)).toEqual({ password: undefined, parts: [webhook, pathname] });
    }
  });

  it('leaves plain URLs and other values alone', () => {
    for (const value of [
      'https://status.acme.io/',
      'postgres://app@db/app', // a user name is not a credential
      'https://discord.com/channels/1/2', // not a webhook path
      'https://example.com/?page=2&sslkey=/etc/client.key',
      'not a url',
      'app:pw@db',
      '',
    ]) {
      expect(urlSecretParts(value)).toBeUndefined();
    }
  });
});

describe('createSecrets().load', () => {
  it('registers the credentials of plain settings that are URLs', async () => {
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    const scrubber = createScrubber();
    const secrets = createSecrets({
      providers: [
        fakeProvider({
          DATABASE_URL: `postgres://app:${password}@db/app`,
          PUBLIC_URL: 'https://status.acme.io/',
        }),
      ],
      environment: 'development',
      scrubber,
    });
    const config = await secrets.load(
      defineSecrets({
        DATABASE_URL: secret({ sensitive: false }),
        PUBLIC_URL: secret({ sensitive: false }),
      }),
    );
    expect(config.DATABASE_URL).toBe(`postgres://app:${password}@db/app`);
    expect(scrubber.redact(`connect ${config.DATABASE_URL} failed`)).toBe(
      `connect postgres://app:${REDACTED}@db/app failed`,
    );
    expect(scrubber.size).toBe(1);
  });
});
