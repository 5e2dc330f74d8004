import { randomBytes } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { createFieldCipher } from '@custos/core/fields';
import { type AwsKmsOptions, createAwsKms, openKmsFromEnvironment } from '@custos/core/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, type TestAccessKey } from '../aws.js';
import { startTestServer, type TestServer } from '../harness.js';

// The server's KMS API answers as this region and account (its ARNs say so).
const region = 'eu-west-1';
const account = '111122223333';

/** What an error must never carry: the canary plaintext, or a data key in any encoding. */
async function failureOf(promise: Promise<unknown>, ...secrets: string[]) {
  try {
    await promise;
  } catch (err) {
    const seen = `${(err as Error).message}\n${(err as Error).stack}\n${JSON.stringify(err)}`;
    for (const secret of secrets) expect(seen).not.toContain(secret);
    return err as { code: string; message: string };
  }
  throw new Error('the call succeeded');
}

describe('the AWS KMS field provider against the custos KMS API (real HTTP, SDK v3)', () => {
  let s: TestServer;
  let key: TestAccessKey;
  let admin: KMSClient;
  let keyId: string;
  let keyArn: string;
  /** Requests each provider's client sent (a middleware on the real SDK client). */
  let sent: string[];

  const sdkClient = (credentials: TestAccessKey = key) => {
    const client = new KMSClient({ endpoint: s.url, region, credentials, maxAttempts: 1 });
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName as string);
        return next(args);
      },
      { step: 'initialize' },
    );
    return client;
  };
  const provider = (options: Partial<AwsKmsOptions> = {}) =>
    createAwsKms({ keyId: 'alias/fields', region, client: sdkClient(), ...options });

  beforeAll(async () => {
    s = await startTestServer('sqlite', { aws: { region, accountId: account } });
    await s.policy('kms-fields', {
      'transit/*': ['create', 'read', 'update', 'delete', 'list'],
      'aws/kms/*': ['create', 'read', 'update', 'delete', 'list'],
    });
    key = await accessKey(s, ['kms-fields']);
    sent = [];
    admin = sdkClient();
    keyId = (await admin.send(new CreateKeyCommand({ Description: 'fields' }))).KeyMetadata
      ?.KeyId as string;
    keyArn = `arn:aws:kms:${region}:${account}:key/${keyId}`;
    await admin.send(new CreateAliasCommand({ AliasName: 'alias/fields', TargetKeyId: keyId }));
  });
  afterAll(async () => {
    admin?.destroy();
    await s?.close();
  });

  it('encrypts fields with data keys from GenerateDataKey, bound to {purpose, tenant}', async () => {
    const kms = provider();
    const fc = createFieldCipher({ kms });
    const where = { table: 'patients', column: 'ssn', rowId: 42, tenantId: 'clinic-a' };
    const ct = await fc.encrypt('078-05-1120', where);
    expect(await fc.decrypt(ct, where)).toBe('078-05-1120');
    // A fresh cipher asks KMS to Decrypt (nothing cached).
    expect(await createFieldCipher({ kms: provider() }).decrypt(ct, where)).toBe('078-05-1120');

    const generated = await kms.generateDataKey({ tenantId: 'clinic-a' });
    const prefix = `aws-kms:v1:${keyArn}:`;
    expect(generated.wrapped.startsWith(prefix)).toBe(true);
    expect(generated.plaintext).toHaveLength(32);
    // The blob is AWS's own, decrypting under exactly that context with the plain SDK.
    const blob = Buffer.from(generated.wrapped.slice(prefix.length), 'base64url');
    const plain = await admin.send(
      new DecryptCommand({
        CiphertextBlob: blob,
        EncryptionContext: { tenant: 'clinic-a', purpose: 'field-data-key' },
      }),
    );
    expect(Buffer.from(plain.Plaintext as Uint8Array)).toEqual(Buffer.from(generated.plaintext));
    expect(kms.describeWrappedKey(generated.wrapped)).toEqual({ keyId: keyArn, keyVersion: 1 });
    expect(await kms.currentKey()).toEqual({ keyId: keyArn, keyVersion: 1 });
    expect((await fc.describe(ct)).current).toBe(true);
    // Without a tenant, the context is {purpose} alone, which a tenant's context does not open.
    const untenanted = await kms.generateDataKey({});
    await expect(kms.unwrapDataKey(untenanted.wrapped, {})).resolves.toEqual(
      Buffer.from(untenanted.plaintext),
    );
    await expect(kms.unwrapDataKey(untenanted.wrapped, { tenantId: '' })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
  });

  it('another tenant, a changed blob or a malformed value fail typed; no canary or data key in errors', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const kms = provider();
    const where = { table: 'notes', column: 'body', rowId: 1, tenantId: 'acme' };
    const ct = await createFieldCipher({ kms }).encrypt(canary, where);
    const fresh = createFieldCipher({ kms: provider() });
    const wrong = await failureOf(fresh.decrypt(ct, { ...where, tenantId: 'globex' }), canary);
    expect(wrong).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    expect(wrong.message).toMatch(/InvalidCiphertextException/);

    const { plaintext, wrapped } = await kms.generateDataKey({ tenantId: 'acme' });
    const dataKey = Buffer.from(plaintext);
    const secrets = [canary, dataKey.toString('base64'), dataKey.toString('hex')];
    const direct = await failureOf(kms.unwrapDataKey(wrapped, { tenantId: 'globex' }), ...secrets);
    expect(direct).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    const tail = wrapped.slice(-6);
    const flipped = `${wrapped.slice(0, -6)}${tail === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
    expect(
      await failureOf(kms.unwrapDataKey(flipped, { tenantId: 'acme' }), ...secrets),
    ).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
    for (const bad of [
      wrapped.replace('aws-kms:v1:', 'aws-kms:v2:'),
      wrapped.replace(':key/', ':alias/'),
      `${wrapped} `,
      'vault:v1:abc',
    ]) {
      expect(kms.describeWrappedKey.bind(kms, bad)).toThrow(
        expect.objectContaining({ code: 'ERR_MALFORMED_CIPHERTEXT' }),
      );
      await expect(kms.unwrapDataKey(bad, { tenantId: 'acme' })).rejects.toMatchObject({
        code: 'ERR_MALFORMED_CIPHERTEXT',
      });
    }
  });

  it('fails closed on an unknown key, a disabled key, missing rights and refused credentials', async () => {
    for (const missing of ['alias/nothing-here', '00000000-0000-4000-8000-000000000000']) {
      await expect(provider({ keyId: missing }).generateDataKey({})).rejects.toMatchObject({
        code: 'ERR_KEY_NOT_FOUND',
      });
      await expect(provider({ keyId: missing }).currentKey()).rejects.toMatchObject({
        code: 'ERR_KEY_NOT_FOUND',
      });
    }
    // A wrapped value naming a key of this account that does not exist: nothing decrypts.
    const { wrapped } = await provider().generateDataKey({ tenantId: 't' });
    const ghost = wrapped.replace(keyId, '00000000-0000-4000-8000-000000000000');
    await expect(provider().unwrapDataKey(ghost, { tenantId: 't' })).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_(KEY_NOT_FOUND|DECRYPTION_FAILED)$/),
    });

    const other = (await admin.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
    const before = await provider({ keyId: other }).generateDataKey({ tenantId: 't' });
    await admin.send(new DisableKeyCommand({ KeyId: other }));
    await expect(provider({ keyId: other }).generateDataKey({})).rejects.toMatchObject({
      code: 'ERR_KEY_DISABLED',
    });
    await expect(
      provider({ keyId: other }).unwrapDataKey(before.wrapped, { tenantId: 't' }),
    ).rejects.toMatchObject({ code: 'ERR_KEY_DISABLED' });

    await s.policy('kms-read-only', { 'transit/keys/*': ['read'], 'aws/kms/*': ['read'] });
    const reader = await accessKey(s, ['kms-read-only']);
    const denied = createAwsKms({ keyId, region, client: sdkClient(reader) });
    await expect(denied.generateDataKey({})).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
    });
    const forged = createAwsKms({
      keyId,
      region,
      client: sdkClient({ accessKeyId: key.accessKeyId, secretAccessKey: 'x'.repeat(40) }),
    });
    await expect(forged.generateDataKey({})).rejects.toMatchObject({
      code: 'ERR_KMS_LOGIN_FAILED',
    });
  });

  it('refuses keys of another account or region before any call, when the config pins them', async () => {
    const { wrapped } = await provider().generateDataKey({ tenantId: 't' });
    const elsewhere = wrapped.replace(`:${account}:`, ':999988887777:');
    const otherRegion = wrapped.replace(`:${region}:`, ':us-east-1:');
    for (const pinned of [
      provider({ accountId: account }),
      provider({ keyId: keyArn }), // a key ARN pins its account
      provider({ keyId: `arn:aws:kms:${region}:${account}:alias/fields` }), // so does an alias ARN
    ]) {
      sent = [];
      for (const value of [elsewhere, otherRegion]) {
        const refused = await failureOf(pinned.unwrapDataKey(value, { tenantId: 't' }));
        expect(refused).toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
        expect(refused.message).toMatch(/of (account 999988887777|region us-east-1)/);
      }
      expect(sent).toEqual([]);
      expect(await pinned.unwrapDataKey(wrapped, { tenantId: 't' })).toHaveLength(32);
    }
    // Unpinned, the region is still checked (the client talks to one region only).
    sent = [];
    await expect(provider().unwrapDataKey(otherRegion, { tenantId: 't' })).rejects.toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
    });
    expect(sent).toEqual([]);
    // A configuration naming another account's key is refused before anything is sent.
    expect(() => provider({ keyId: keyArn, accountId: '999988887777' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => provider({ keyId: keyArn.replace(region, 'us-east-1') })).toThrow(
      /keyId is an ARN of region us-east-1/,
    );
    // The server answering with another account's key than pinned is not believed either.
    const mismatched = provider({ accountId: '999988887777' });
    await expect(mismatched.generateDataKey({})).rejects.toMatchObject({
      code: 'ERR_KMS_PROVIDER',
      message: expect.stringMatching(/of account 111122223333/),
    });
  });

  it('registers rotation: EnableKeyRotation on the key behind the alias, read back', async () => {
    const kms = provider();
    await kms.enableKeyRotation(180);
    const status = await admin.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    expect(status).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 180 });
    const transit = await s.request('GET', `transit/keys/${keyId}`);
    expect(transit.body.data.auto_rotate_period).toBe(180 * 86_400);
    for (const days of [89, 2561, 1.5]) {
      await expect(kms.enableKeyRotation(days)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
  });

  it('opens from the environment (KMS_PROVIDER=aws), registering KEY_ROTATION_* with AWS', async () => {
    const rotated = (await admin.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
    const env = {
      KMS_PROVIDER: 'aws',
      AWS_REGION: region,
      AWS_KMS_KEY_ID: `arn:aws:kms:${region}:${account}:key/${rotated}`,
      AWS_KMS_ACCOUNT_ID: account,
      AWS_ENDPOINT_URL_KMS: s.url,
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      KEY_ROTATION_ENABLED: 'true',
      KEY_ROTATION_INTERVAL_DAYS: '365',
    };
    const opened = await openKmsFromEnvironment(env);
    try {
      const where = { table: 't', column: 'c', rowId: 1, tenantId: 9 };
      const fc = createFieldCipher({ kms: opened.kms });
      expect(await fc.decrypt(await fc.encrypt({ ok: true }, where), where)).toEqual({ ok: true });
      expect(await admin.send(new GetKeyRotationStatusCommand({ KeyId: rotated }))).toMatchObject({
        KeyRotationEnabled: true,
        RotationPeriodInDays: 365,
      });
    } finally {
      await opened.close();
    }
    // Rights to use the key but not to enable its rotation: the open fails, typed.
    await s.policy('kms-use-only', {
      'transit/encrypt/*': ['update'],
      'transit/decrypt/*': ['update'],
      'transit/keys/*': ['read'],
      'aws/kms/*': ['read'],
    });
    const user = await accessKey(s, ['kms-use-only']);
    await expect(
      openKmsFromEnvironment({
        ...env,
        AWS_ACCESS_KEY_ID: user.accessKeyId,
        AWS_SECRET_ACCESS_KEY: user.secretAccessKey,
      }),
    ).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('registers KEY_ROTATION_* as auto_rotate_period for a custos transit key', async () => {
    await s.request('POST', 'transit/keys/fields-transit', { body: {} });
    const opened = await openKmsFromEnvironment({
      KMS_PROVIDER: 'custos',
      KMS_KEY_NAME: 'fields-transit',
      CUSTOS_ADDR: s.url,
      CUSTOS_TOKEN: 'root',
      KEY_ROTATION_ENABLED: 'true',
      KEY_ROTATION_INTERVAL_DAYS: '30',
    });
    await opened.close();
    const transit = await s.request('GET', 'transit/keys/fields-transit');
    expect(transit.body.data.auto_rotate_period).toBe(30 * 86_400);
    // Read-only tools open without registering anything.
    await s.request('POST', 'transit/keys/fields-untouched', { body: {} });
    await (
      await openKmsFromEnvironment(
        {
          KMS_PROVIDER: 'custos',
          KMS_KEY_NAME: 'fields-untouched',
          CUSTOS_ADDR: s.url,
          CUSTOS_TOKEN: 'root',
          KEY_ROTATION_ENABLED: 'true',
          KEY_ROTATION_INTERVAL_DAYS: '30',
        },
        { registerRotation: false },
      )
    ).close();
    expect(
      (await s.request('GET', 'transit/keys/fields-untouched')).body.data.auto_rotate_period,
    ).toBe(0);
    // A token that may use the key but not configure it: the open fails, and nothing changed.
    await s.policy('fields-use-only', {
      'transit/encrypt/fields-untouched': ['update'],
      'transit/decrypt/fields-untouched': ['update'],
      'transit/keys/fields-untouched': ['read'],
    });
    const user = await s.token({ policies: ['fields-use-only'] });
    await expect(
      openKmsFromEnvironment({
        KMS_PROVIDER: 'custos',
        KMS_KEY_NAME: 'fields-untouched',
        CUSTOS_ADDR: s.url,
        CUSTOS_TOKEN: user,
        KEY_ROTATION_ENABLED: 'true',
        KEY_ROTATION_INTERVAL_DAYS: '30',
      }),
    ).rejects.toMatchObject({ code: 'ERR_KMS_REMOTE', message: /permission denied/ });
    expect(
      (await s.request('GET', 'transit/keys/fields-untouched')).body.data.auto_rotate_period,
    ).toBe(0);
  });
});
