import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, failure, smClient, type TestAccessKey } from '../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { startServer } from '../server.js';

describe.each(await storageKinds())('Secrets Manager API, the other operations, on %s', (kind) => {
  let s: TestServer;
  let key: TestAccessKey;
  let sm: SecretsManagerClient;
  beforeAll(async () => {
    s = await startTestServer(kind, { aws: { pathPrefix: '/aws' } });
    await s.policy('aws-all', {
      'secret/*': ['create', 'read', 'update', 'delete', 'list'],
      'aws/random-password': ['update'],
    });
    key = await accessKey(s, ['aws-all']);
    sm = smClient(s, key, '/aws');
  });
  afterAll(async () => {
    sm?.destroy();
    await s.close();
  });

  it('is served under the configured path prefix only', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'prefixed', SecretString: 'p' }));
    // `/` is then an unknown path outside `/v1/`: refused as the Vault API refuses one.
    const atRoot = smClient(s, key);
    expect(
      (await failure(atRoot.send(new GetSecretValueCommand({ SecretId: 'prefixed' })))).status,
    ).toBe(400);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'prefixed' }))).SecretString).toBe(
      'p',
    );
  });

  it('refuses a path prefix that is not plain lower-case segments (ERR_INVALID_CONFIG)', async () => {
    for (const pathPrefix of ['aws', '/aws/', '/AWS', '/a%2Fb', '/a/../b', '/v1', '/v1/aws']) {
      const start = startServer({ storage: ':memory:', port: 0, aws: { pathPrefix } });
      await expect(start).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    }
  });

  it('retries a CreateSecret with the same token as the first answer, and keeps binary values', async () => {
    const token = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    const input = {
      Name: 'binary',
      SecretBinary: new Uint8Array([0, 1, 2, 250]),
      ClientRequestToken: token,
    };
    const first = await sm.send(new CreateSecretCommand(input));
    const again = await sm.send(new CreateSecretCommand(input));
    expect(again).toMatchObject({ ARN: first.ARN, VersionId: token });
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'binary' }));
    expect([...(got.SecretBinary ?? [])]).toEqual([0, 1, 2, 250]);
    expect(got.SecretString).toBeUndefined();
  });

  it('updates description and value; tags and untags; lists version ids', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'upd', SecretString: 'one' }));
    await sm.send(new UpdateSecretCommand({ SecretId: 'upd', Description: 'the db' }));
    const updated = await sm.send(
      new UpdateSecretCommand({ SecretId: 'upd', SecretString: 'two' }),
    );
    expect(updated.VersionId).toBeDefined();
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'upd' }))).SecretString).toBe(
      'two',
    );
    await sm.send(
      new TagResourceCommand({
        SecretId: 'upd',
        Tags: [
          { Key: 'team', Value: 'ops' },
          { Key: 'env', Value: 'prod' },
        ],
      }),
    );
    await sm.send(new UntagResourceCommand({ SecretId: 'upd', TagKeys: ['env'] }));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'upd' }));
    expect(described.Description).toBe('the db');
    expect(described.Tags).toEqual([{ Key: 'team', Value: 'ops' }]);
    const byTag = await sm.send(
      new ListSecretsCommand({ Filters: [{ Key: 'tag-key', Values: ['team'] }] }),
    );
    expect(byTag.SecretList?.map((e) => e.Name)).toEqual(['upd']);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'upd' }));
    expect(versions.Versions?.map((v) => v.VersionStages)).toEqual([
      ['AWSPREVIOUS'],
      ['AWSCURRENT'],
    ]);
  });

  it('moves staging labels with UpdateSecretVersionStage, as a rotation finishes', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'rot', SecretString: 'old' }));
    const current = (await sm.send(new DescribeSecretCommand({ SecretId: 'rot' })))
      .VersionIdsToStages;
    const currentId = Object.keys(current ?? {})[0] as string;
    const pending = await sm.send(
      new PutSecretValueCommand({
        SecretId: 'rot',
        SecretString: 'new',
        VersionStages: ['AWSPENDING'],
      }),
    );
    // Moving AWSCURRENT needs the version that holds it named.
    expect(
      await failure(
        sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: 'rot',
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: pending.VersionId,
          }),
        ),
      ),
    ).toEqual({ name: 'InvalidParameterException', status: 400 });
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'rot',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending.VersionId,
        RemoveFromVersionId: currentId,
      }),
    );
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'rot',
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: pending.VersionId,
      }),
    );
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: 'rot' })))
      .VersionIdsToStages;
    expect(stages).toEqual({
      [currentId]: ['AWSPREVIOUS'],
      [pending.VersionId as string]: ['AWSCURRENT'],
    });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'rot' }))).SecretString).toBe(
      'new',
    );
  });

  it('serves the AWS caching client pattern: DescribeSecret, then GetSecretValue by stage', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'cached', SecretString: 'c1' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'cached', SecretString: 'c2' }));
    const { VersionIdsToStages } = await sm.send(new DescribeSecretCommand({ SecretId: 'cached' }));
    const currentId = Object.entries(VersionIdsToStages ?? {}).find(([, st]) =>
      st.includes('AWSCURRENT'),
    )?.[0];
    const value = await sm.send(
      new GetSecretValueCommand({ SecretId: 'cached', VersionStage: 'AWSCURRENT' }),
    );
    expect(value).toMatchObject({ SecretString: 'c2', VersionId: currentId });
  });

  it('generates random passwords with the requested character classes', async () => {
    const { RandomPassword } = await sm.send(
      new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true }),
    );
    expect(RandomPassword).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(RandomPassword).toMatch(/[a-z]/);
    expect(RandomPassword).toMatch(/[A-Z]/);
    expect(RandomPassword).toMatch(/[0-9]/);
    expect(await failure(sm.send(new GetRandomPasswordCommand({ PasswordLength: 5000 })))).toEqual({
      name: 'InvalidParameterException',
      status: 400,
    });
  });

  it('batch-reads secrets, each judged on its own', async () => {
    await s.policy('batch-some', { 'secret/data/batch/ok': ['read'] });
    const narrow = smClient(s, await accessKey(s, ['batch-some']), '/aws');
    await sm.send(new CreateSecretCommand({ Name: 'batch/ok', SecretString: 'ok' }));
    await sm.send(new CreateSecretCommand({ Name: 'batch/no', SecretString: 'no' }));
    const answer = await narrow.send(
      new BatchGetSecretValueCommand({ SecretIdList: ['batch/ok', 'batch/no', 'batch/missing'] }),
    );
    expect(answer.SecretValues?.map((v) => [v.Name, v.SecretString])).toEqual([['batch/ok', 'ok']]);
    expect(answer.Errors?.map((e) => [e.SecretId, e.ErrorCode])).toEqual([
      ['batch/no', 'AccessDeniedException'],
      ['batch/missing', 'AccessDeniedException'],
    ]);
    // By filter: the caller may not list the mount, so nothing is listed (not even names).
    expect(
      await failure(
        narrow.send(
          new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['batch/'] }] }),
        ),
      ),
    ).toEqual({ name: 'AccessDeniedException', status: 400 });
    const all = await sm.send(
      new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['batch/'] }] }),
    );
    expect(all.SecretValues?.map((v) => v.Name)).toEqual(['batch/no', 'batch/ok']);
  });
});
