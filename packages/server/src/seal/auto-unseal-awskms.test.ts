import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { createAwsKms } from '@custos/core/kms';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, type TestAccessKey } from '../../test/aws.js';
import {
  createTestStorage,
  send,
  startTestServer,
  type TestServer,
  type TestStorage,
} from '../../test/harness.js';
import {
  generateRootWith,
  initWithRecoveryKeys,
  rekeyRecoveryWith,
  shamirSealRoundTrip,
  startSealedServer,
} from '../../test/seal.js';
import { until } from '../../test/until.js';
import type { RunningServer } from '../server.js';
import type { AwsKmsSealConfig } from './awskms-seal.js';
import { createRootKeyWrapper } from './seal-stanza.js';

const region = 'eu-west-1';
const account = '111122223333';

/**
 * The `awskms` seal against a real custos server's AWS KMS API (the official SDK, only the
 * endpoint changed): init gives recovery keys, a restart unseals itself, a disabled key keeps
 * the server sealed with a typed error naming the key (never the credentials), Shamir migrates
 * to the seal and back, and a root key wrapped for another cluster or purpose is refused.
 */
describe('awskms auto-unseal against the custos KMS API', () => {
  let kms: TestServer;
  let key: TestAccessKey;
  let admin: KMSClient;
  let keyId: string;
  /** The storage of the test's node (each test has its own: any may run alone). */
  let storage: TestStorage;
  const storages: TestStorage[] = [];
  let node: RunningServer | undefined;
  const logs: string[] = [];

  const stanza = (extra: Partial<AwsKmsSealConfig> = {}): AwsKmsSealConfig => ({
    type: 'awskms',
    region,
    kms_key_id: 'alias/custos-seal',
    endpoint: kms.url,
    ...extra,
  });
  const env = (credentials: TestAccessKey = key) => ({
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
  const start = (extra: Partial<AwsKmsSealConfig> = {}, credentials: TestAccessKey = key) =>
    startSealedServer(storage.location, {
      seal: stanza(extra),
      env: env(credentials),
      sealClients: { aws: { maxAttempts: 1 } },
      logLevel: 'info',
      logDestination: { write: (line) => void logs.push(line) },
      autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
    });
  const restart = async (extra: Partial<AwsKmsSealConfig> = {}, credentials = key) => {
    await node?.close();
    logs.length = 0;
    node = await start(extra, credentials);
  };
  const status = async () =>
    (await send((node as RunningServer).url, 'GET', 'sys/seal-status')).body;
  const failures = () =>
    logs
      .map((line) => JSON.parse(line) as { msg: string; code?: string })
      .filter((m) => m.msg.includes('auto-unseal failed'));
  /** A node on storage of its own, not initialised. */
  const freshNode = async () => {
    storage = await createTestStorage('sqlite');
    storages.push(storage);
    await restart();
    return node as RunningServer;
  };
  /** {@link freshNode} initialised (three recovery shares, threshold two), holding `secret/app`. */
  const initialisedNode = async () => {
    const url = (await freshNode()).url;
    return { url, ...(await initWithRecoveryKeys(url, 'kept behind AWS KMS')) };
  };

  beforeAll(async () => {
    kms = await startTestServer('sqlite', { aws: { region, accountId: account } });
    await kms.policy('kms-seal', {
      'transit/*': ['create', 'read', 'update', 'delete', 'list'],
      'aws/kms/*': ['create', 'read', 'update', 'delete', 'list'],
    });
    key = await accessKey(kms, ['kms-seal']);
    admin = new KMSClient({ endpoint: kms.url, region, credentials: key, maxAttempts: 1 });
    keyId = (await admin.send(new CreateKeyCommand({ Description: 'custos seal' }))).KeyMetadata
      ?.KeyId as string;
    await admin.send(
      new CreateAliasCommand({ AliasName: 'alias/custos-seal', TargetKeyId: keyId }),
    );
  });
  afterEach(async () => {
    await node?.close();
    node = undefined;
    for (const used of storages.splice(0)) await used.cleanup();
  });
  afterAll(async () => {
    admin?.destroy();
    await kms?.close();
  });

  it('gives recovery keys at init and unseals itself after a restart', async () => {
    await freshNode();
    expect(await status()).toMatchObject({
      type: 'awskms',
      recovery_seal: true,
      initialized: false,
    });
    const init = await send((node as RunningServer).url, 'POST', 'sys/init', {
      body: { recovery_shares: 3, recovery_threshold: 2 },
    });
    expect(init.status).toBe(200);
    expect(init.body.keys).toEqual([]);
    expect(init.body.recovery_keys).toHaveLength(3);
    const rootToken = init.body.root_token;
    const written = await send((node as RunningServer).url, 'POST', 'secret/data/app', {
      token: rootToken,
      body: { data: { value: 'kept behind AWS KMS' } },
    });
    expect(written.status).toBe(200);
    await restart();
    await until(async () => (await status()).sealed === false, 'the auto-unseal');
    expect(logs.join('\n')).toContain('unsealed by the awskms seal key alias/custos-seal');
    const read = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
      token: rootToken,
    });
    expect(read.body.data.data.value).toBe('kept behind AWS KMS');
  });

  it('wraps under the key ARN, bound to the cluster in the encryption context; another cluster or purpose is refused', async () => {
    const wrapper = createRootKeyWrapper(stanza(), env(), { aws: { maxAttempts: 1 } });
    try {
      const rootKey = randomBytes(32);
      const cluster = randomUUID();
      const wrapped = await wrapper.wrap(rootKey, { clusterId: cluster });
      expect(wrapped).toMatchObject({
        type: 'awskms',
        keyId: `arn:aws:kms:${region}:${account}:key/${keyId}`,
        keyVersion: 1,
      });
      expect((await wrapper.unwrap(wrapped, { clusterId: cluster })).equals(rootKey)).toBe(true);
      // Another cluster's id: AWS refuses the encryption context.
      await expect(wrapper.unwrap(wrapped, { clusterId: randomUUID() })).rejects.toMatchObject({
        code: 'ERR_SEAL_UNAVAILABLE',
        message: expect.stringMatching(/ERR_DECRYPTION_FAILED.*InvalidCiphertextException/),
      });
      // A field data key of the same KMS key (another purpose) does not open as a root key.
      const fields = createAwsKms({
        keyId: 'alias/custos-seal',
        region,
        endpoint: kms.url,
        clientConfig: { credentials: key, maxAttempts: 1 },
      });
      const dataKey = await fields.generateDataKey({});
      await fields.close();
      await expect(
        wrapper.unwrap({ ...wrapped, ciphertext: dataKey.wrapped }, { clusterId: cluster }),
      ).rejects.toMatchObject({
        code: 'ERR_SEAL_UNAVAILABLE',
        message: expect.stringContaining('ERR_DECRYPTION_FAILED'),
      });
      // A record naming another key is refused before any call.
      await expect(
        wrapper.unwrap(
          { ...wrapped, keyId: 'arn:aws:kms:eu-west-1:111122223333:key/other' },
          {
            clusterId: cluster,
          },
        ),
      ).rejects.toMatchObject({ code: 'ERR_SEAL_UNAVAILABLE' });
      // No cluster id recorded: an integrity error, nothing sent.
      await expect(wrapper.unwrap(wrapped, { clusterId: undefined })).rejects.toMatchObject({
        code: 'ERR_STORAGE_INTEGRITY',
      });
    } finally {
      await wrapper.close?.();
    }
  });

  it('authorises a root generation and a recovery key rekey with the recovery keys', async () => {
    const { url, recoveryKeys } = await initialisedNode();
    expect((await generateRootWith(url, recoveryKeys.slice(0, 2))).body.complete).toBe(true);
    const rotated = await rekeyRecoveryWith(url, recoveryKeys.slice(1), {
      secret_shares: 4,
      secret_threshold: 3,
    });
    expect(rotated.update.body).toMatchObject({ complete: true });
    expect((await generateRootWith(url, recoveryKeys)).status).toBe(400);
    expect((await generateRootWith(url, rotated.keys.slice(1))).body.complete).toBe(true);
    const barrier = await send(url, 'POST', 'sys/rekey/init', {
      body: { secret_shares: 3, secret_threshold: 2 },
    });
    expect(barrier.status).toBe(400);
  });

  it('stays sealed while the key is disabled, naming the seal and key but no credential; unseals once enabled', async () => {
    const { rootToken } = await initialisedNode();
    await admin.send(new DisableKeyCommand({ KeyId: keyId }));
    try {
      await restart();
      await until(async () => failures().length >= 2, 'a failure and a retry');
      expect((await status()).sealed).toBe(true);
      const failure = failures()[0] as { msg: string; code?: string };
      expect(failure.code).toBe('ERR_SEAL_UNAVAILABLE');
      expect(failure.msg).toContain('awskms seal key alias/custos-seal');
      expect(failure.msg).toContain('ERR_KEY_DISABLED');
      const sealedRead = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
        token: rootToken,
      });
      expect(sealedRead.status).toBe(503);
    } finally {
      await admin.send(new EnableKeyCommand({ KeyId: keyId }));
    }
    await until(async () => (await status()).sealed === false, 'the auto-unseal once enabled');
    const all = logs.join('\n');
    expect(all).not.toContain(key.secretAccessKey);
  });

  it('keeps canary credentials out of logs and answers; an unreachable KMS keeps it sealed', async () => {
    await initialisedNode();
    const canary: TestAccessKey = {
      accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: `CANARY${randomBytes(16).toString('hex')}`,
    };
    await restart({}, canary);
    await until(async () => failures().length >= 2, 'a failure and a retry');
    expect((await status()).sealed).toBe(true);
    expect(failures()[0]?.msg).toContain('ERR_KMS_LOGIN_FAILED');
    const unseal = await send((node as RunningServer).url, 'POST', 'sys/unseal', { body: {} });
    const seen = `${logs.join('\n')}\n${unseal.text}\n${JSON.stringify(await status())}`;
    expect(seen).not.toContain(canary.secretAccessKey);
    // Nothing listens there: the server stays sealed and says which seal failed.
    await restart({ endpoint: 'http://127.0.0.1:9' });
    await until(async () => failures().length >= 1, 'a failure');
    expect((await status()).sealed).toBe(true);
    expect(failures()[0]?.msg).toContain('awskms seal key alias/custos-seal');
    expect(logs.join('\n')).not.toContain(key.secretAccessKey);
    // A KMS that accepts the connection and never answers: the call times out (the seal sets
    // the SDK's request timeout; shortened here) and the loop retries, still sealed.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      await node?.close();
      logs.length = 0;
      node = await startSealedServer(storage.location, {
        seal: stanza({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` }),
        env: env(),
        sealClients: { aws: { maxAttempts: 1, requestHandler: { requestTimeout: 200 } } },
        logLevel: 'info',
        logDestination: { write: (line) => void logs.push(line) },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      });
      await until(async () => failures().length >= 2, 'a timed-out call and a retry');
      expect((await status()).sealed).toBe(true);
    } finally {
      await node?.close();
      node = undefined;
      silent.closeAllConnections?.();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    await restart();
    await until(async () => (await status()).sealed === false, 'the auto-unseal');
  });

  it('needs only Encrypt and Decrypt on the key (least privilege), and refuses a stanza naming another key', async () => {
    await initialisedNode();
    await kms.policy('kms-seal-only', {
      [`transit/encrypt/${keyId}`]: ['update'],
      [`transit/decrypt/${keyId}`]: ['update'],
    });
    const narrow = await accessKey(kms, ['kms-seal-only']);
    const narrowStorage = await createTestStorage('sqlite');
    try {
      const first = await startSealedServer(narrowStorage.location, {
        seal: stanza(),
        env: env(narrow),
        sealClients: { aws: { maxAttempts: 1 } },
      });
      try {
        const init = await send(first.url, 'POST', 'sys/init', {
          body: { recovery_shares: 1, recovery_threshold: 1 },
        });
        expect(init.status).toBe(200);
      } finally {
        await first.close();
      }
      const again = await startSealedServer(narrowStorage.location, {
        seal: stanza(),
        env: env(narrow),
        sealClients: { aws: { maxAttempts: 1 } },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      });
      try {
        await until(
          async () => (await send(again.url, 'GET', 'sys/seal-status')).body.sealed === false,
          'the auto-unseal with Encrypt/Decrypt only',
        );
      } finally {
        await again.close();
      }
      // Without Decrypt the root key is not unwrapped: sealed, the permission named.
      await kms.policy('kms-encrypt-only', { [`transit/encrypt/${keyId}`]: ['update'] });
      const encryptOnly = await accessKey(kms, ['kms-encrypt-only']);
      const seen: string[] = [];
      const refused = await startSealedServer(narrowStorage.location, {
        seal: stanza(),
        env: env(encryptOnly),
        sealClients: { aws: { maxAttempts: 1 } },
        logLevel: 'info',
        logDestination: { write: (line) => void seen.push(line) },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      });
      try {
        await until(async () => seen.some((l) => l.includes('auto-unseal failed')), 'a failure');
        expect(seen.join('\n')).toContain('ERR_PERMISSION_DENIED');
        expect((await send(refused.url, 'GET', 'sys/seal-status')).body.sealed).toBe(true);
      } finally {
        await refused.close();
      }
    } finally {
      await narrowStorage.cleanup();
    }
    // The stanza names another key (by key id) than the one that wrapped the stored root key.
    const other = (await admin.send(new CreateKeyCommand({ Description: 'another' }))).KeyMetadata
      ?.KeyId as string;
    await restart({ kms_key_id: other });
    await until(async () => failures().length >= 1, 'a failure');
    expect((await status()).sealed).toBe(true);
    expect(failures()[0]?.msg).toContain(
      `the stored root key was wrapped by awskms key "arn:aws:kms:${region}:${account}:key/${keyId}"`,
    );
    await restart();
    await until(async () => (await status()).sealed === false, 'the auto-unseal');
  });

  it('unseals after a rotation of the KMS key (older material still decrypts)', async () => {
    const { rootToken } = await initialisedNode();
    const rotated = await kms.request('POST', `transit/keys/${keyId}/rotate`);
    expect(rotated.status).toBe(200);
    await restart();
    await until(async () => (await status()).sealed === false, 'the auto-unseal after rotation');
    const read = await send((node as RunningServer).url, 'GET', 'secret/data/app', {
      token: rootToken,
    });
    expect(read.body.data.data.value).toBe('kept behind AWS KMS');
  });

  it('migrates Shamir -> awskms -> Shamir: data written before is read after', async () => {
    await shamirSealRoundTrip('awskms', (phase) => ({
      seal: stanza(phase === 'back' ? { disabled: true } : {}),
      env: env(),
      sealClients: { aws: { maxAttempts: 1 } },
      autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
    }));
  });
});
