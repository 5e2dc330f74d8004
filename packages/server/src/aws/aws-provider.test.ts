import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { isCustosError } from '@custos/core/errors';
import {
  awsSecretsManager,
  chain,
  checkEnvironment,
  createSecrets,
  defineSecrets,
  secret,
} from '@custos/core/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, smClient, type TestAccessKey } from '../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

/** Values generated at run time: nothing secret-looking is committed. */
const fresh = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

describe.each(await storageKinds())(
  'the awsSecretsManager() provider against custos on %s',
  (kind) => {
    let s: TestServer;
    let key: TestAccessKey;
    let sm: SecretsManagerClient;
    const first = { DB_PASSWORD: fresh('db1'), API_KEY: fresh('api1'), PORT: 8080 };
    const second = { DB_PASSWORD: fresh('db2'), API_KEY: fresh('api2') };
    let config: Record<string, unknown>;

    beforeAll(async () => {
      s = await startTestServer(kind);
      await s.policy('app', { 'secret/*': ['create', 'read', 'update', 'list'] });
      key = await accessKey(s, ['app']);
      sm = smClient(s, key);
      config = { endpoint: s.url, region: 'us-east-1', credentials: key, maxAttempts: 1 };
      await sm.send(
        new CreateSecretCommand({ Name: 'app/prod', SecretString: JSON.stringify(first) }),
      );
      await sm.send(
        new PutSecretValueCommand({ SecretId: 'app/prod', SecretString: JSON.stringify(second) }),
      );
      await sm.send(new CreateSecretCommand({ Name: 'svc/TOKEN', SecretString: first.API_KEY }));
      await sm.send(
        new CreateSecretCommand({ Name: 'svc/URL', SecretString: 'https://billing.corp.internal' }),
      );
    });
    afterAll(async () => {
      sm?.destroy();
      await s.close();
    });

    it('reads the members of one JSON secret, AWSCURRENT by default, another stage on request', async () => {
      const current = awsSecretsManager({ secretId: 'app/prod', clientConfig: config });
      expect(await current.get('DB_PASSWORD')).toBe(second.DB_PASSWORD);
      expect(await current.get('MISSING')).toBeUndefined();
      expect([...(await current.list())].sort()).toEqual(['API_KEY', 'DB_PASSWORD']);
      const previous = awsSecretsManager({
        secretId: 'app/prod',
        versionStage: 'AWSPREVIOUS',
        clientConfig: config,
      });
      expect(await previous.get('DB_PASSWORD')).toBe(first.DB_PASSWORD);
      expect(await previous.get('PORT')).toBe('8080');
    });

    it('reads a secret per variable under a prefix, and a missing secret is a miss the chain passes on', async () => {
      const perName = awsSecretsManager({ prefix: 'svc/', clientConfig: config });
      expect(await perName.get('TOKEN')).toBe(first.API_KEY);
      expect([...(await perName.list())].sort()).toEqual(['TOKEN', 'URL']);
      const fallback = { name: 'fallback', get: async () => 'from-fallback', list: async () => [] };
      const missing = awsSecretsManager({ secretId: 'app/none', clientConfig: config });
      expect(await chain([missing, fallback]).get('DB_PASSWORD')).toBe('from-fallback');
    });

    it('shares one request among concurrent reads and serves the SDK cache until its TTL', async () => {
      const client = new SecretsManagerClient(config);
      let calls = 0;
      client.middlewareStack.add(
        (next) => async (args) => {
          calls++;
          return next(args);
        },
        { step: 'initialize', name: 'countCalls' },
      );
      const secrets = createSecrets({
        providers: [awsSecretsManager({ secretId: 'app/prod', client })],
        environment: 'test',
        cacheTtlSeconds: 3600,
        onWarning: () => undefined,
      });
      const values = await Promise.all(
        ['DB_PASSWORD', 'API_KEY', 'DB_PASSWORD', 'API_KEY'].map((n) =>
          secrets.getRequiredSecret(n),
        ),
      );
      expect(values.map((v) => v.reveal())).toEqual([
        second.DB_PASSWORD,
        second.API_KEY,
        second.DB_PASSWORD,
        second.API_KEY,
      ]);
      expect(calls).toBe(1);
      // A new version is not read again before the TTL: the cache answers.
      const third = fresh('db3');
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'app/prod',
          SecretString: JSON.stringify({ ...second, DB_PASSWORD: third }),
        }),
      );
      expect((await secrets.getRequiredSecret('DB_PASSWORD')).reveal()).toBe(second.DB_PASSWORD);
      expect(calls).toBe(1);
      secrets.close();
      // Without a cache, the new version is read at once.
      const uncached = createSecrets({
        providers: [awsSecretsManager({ secretId: 'app/prod', client, documentTtlMs: 0 })],
        environment: 'test',
        cacheTtlSeconds: 0,
        onWarning: () => undefined,
      });
      expect((await uncached.getRequiredSecret('DB_PASSWORD')).reveal()).toBe(third);
      uncached.close();
      client.destroy();
    });

    it('is what SECRETS_BACKEND=aws (and custos, vault) load, from the environment alone', async () => {
      const schema = defineSecrets({
        TOKEN: secret(),
        URL: secret({ sensitive: false, optional: true }),
      });
      const aws = await checkEnvironment({
        schema,
        environment: 'production',
        env: {
          SECRETS_BACKEND: 'aws-secrets-manager',
          AWS_SECRETS_PREFIX: 'svc/',
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: s.url,
          AWS_ACCESS_KEY_ID: key.accessKeyId,
          AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
        },
      });
      expect(aws.problems).toEqual([]);
      expect(aws.variables.get('TOKEN')?.reveal()).toBe(first.API_KEY);
      const token = await s.token({ policies: ['app'] });
      const password = fresh('kv');
      expect(
        (
          await s.request('POST', 'secret/data/kv/prod', {
            body: { data: { DB_PASSWORD: password } },
          })
        ).status,
      ).toBe(200);
      for (const backend of ['custos', 'vault']) {
        const prefix = backend.toUpperCase();
        const kv = await checkEnvironment({
          schema: defineSecrets({ DB_PASSWORD: secret() }),
          environment: 'production',
          env: {
            SECRETS_BACKEND: backend,
            [`${prefix}_ADDR`]: s.url,
            [`${prefix}_PATH`]: 'secret/kv/prod',
            [`${prefix}_TOKEN`]: token,
          },
        });
        expect(kv.problems, backend).toEqual([]);
        expect(kv.variables.get('DB_PASSWORD')?.reveal(), backend).toBe(password);
      }
    });

    it('refuses options naming both or neither of secretId and prefix', () => {
      for (const bad of [{}, { secretId: 'a', prefix: 'b' }, { secretId: '' }])
        expect(() => awsSecretsManager(bad)).toThrow(/secretId/);
    });

    // Last: it seals the server.
    it('serves the last good value while the server fails (stale-if-error), and fails closed without one', async () => {
      const warnings: string[] = [];
      const secrets = createSecrets({
        providers: [
          awsSecretsManager({ secretId: 'app/prod', clientConfig: config, documentTtlMs: 0 }),
        ],
        environment: 'test',
        cacheTtlSeconds: 0,
        onWarning: (message) => warnings.push(message),
      });
      const good = (await secrets.getRequiredSecret('API_KEY')).reveal();
      const denied = awsSecretsManager({
        secretId: 'app/prod',
        clientConfig: { ...config, credentials: await accessKey(s, ['default']) },
      });
      const refusal = await denied.get('API_KEY').catch((err: unknown) => err);
      expect(isCustosError(refusal) && refusal.code).toBe('ERR_SECRET_PROVIDER');
      expect((refusal as Error).message).toContain('AccessDeniedException');
      expect((refusal as Error).message).not.toContain(good);
      expect((await s.request('POST', 'sys/seal')).status).toBe(204);
      expect((await secrets.getRequiredSecret('API_KEY')).reveal()).toBe(good);
      expect(warnings.some((w) => w.includes('API_KEY'))).toBe(true);
      const cold = awsSecretsManager({ secretId: 'app/prod', clientConfig: config });
      const sealed = await cold.get('API_KEY').catch((err: unknown) => err);
      expect(isCustosError(sealed) && sealed.code).toBe('ERR_SECRET_PROVIDER');
      secrets.close();
    });
  },
);
