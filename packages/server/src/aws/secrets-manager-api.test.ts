import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, failure, smClient } from '../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

/** The error an SDK call fails with: its AWS type and HTTP status. */

describe.each(await storageKinds())('Secrets Manager API core operations on %s', (kind) => {
  let s: TestServer;
  let sm: SecretsManagerClient;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.policy('aws-all', { 'secret/*': ['create', 'read', 'update', 'delete', 'list'] });
    sm = smClient(s, await accessKey(s, ['aws-all']));
  });
  afterAll(async () => {
    sm?.destroy();
    await s.close();
  });

  it('creates a secret and reads it back (the official SDK, unchanged)', async () => {
    const created = await sm.send(
      new CreateSecretCommand({ Name: 'app/db', SecretString: 'hunter2', Description: 'db' }),
    );
    expect(created.Name).toBe('app/db');
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:app\/db-[A-Za-z0-9]{6}$/,
    );
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'app/db' }));
    expect(got.SecretString).toBe('hunter2');
    expect(got.VersionStages).toEqual(['AWSCURRENT']);
    expect(got.VersionId).toBe(created.VersionId);
    expect(got.ARN).toBe(created.ARN);
    expect(got.CreatedDate).toBeInstanceOf(Date);
    const byArn = await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    expect(byArn.SecretString).toBe('hunter2');
  });

  it('refuses a name with a lone surrogate, never reading the secret it would encode as', async () => {
    // Encoded as UTF-8, 'lone\ud800' is 'lone\ufffd': one stored path for two names.
    // (Secret names are letters, digits and /_+=.@-: written through KV.)
    const written = await s.request('POST', 'secret/data/lone%EF%BF%BD', {
      body: { data: { SecretString: 'replacement' } },
    });
    expect(written.status).toBe(200);
    for (const id of ['lone\ud800', 'lone\udc00']) {
      const refused = await failure(sm.send(new GetSecretValueCommand({ SecretId: id })));
      expect(refused).toEqual({ name: 'InvalidRequestException', status: 400 });
      const created = await failure(
        sm.send(new CreateSecretCommand({ Name: id, SecretString: 'x' })),
      );
      expect(created.status).toBe(400);
    }
    const kept = await sm.send(new GetSecretValueCommand({ SecretId: 'lone\ufffd' }));
    expect(kept.SecretString).toBe('replacement');
  });

  it('moves AWSCURRENT to a new version and AWSPREVIOUS to the old one on PutSecretValue', async () => {
    const first = await sm.send(new CreateSecretCommand({ Name: 'stages', SecretString: 'v1' }));
    const second = await sm.send(
      new PutSecretValueCommand({ SecretId: 'stages', SecretString: 'v2' }),
    );
    expect(second.VersionStages).toEqual(['AWSCURRENT']);
    const previous = await sm.send(
      new GetSecretValueCommand({ SecretId: 'stages', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous.SecretString).toBe('v1');
    expect(previous.VersionId).toBe(first.VersionId);
    const byId = await sm.send(
      new GetSecretValueCommand({ SecretId: 'stages', VersionId: first.VersionId }),
    );
    expect(byId.SecretString).toBe('v1');
    const pending = await sm.send(
      new PutSecretValueCommand({
        SecretId: 'stages',
        SecretString: 'v3',
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    const current = await sm.send(new GetSecretValueCommand({ SecretId: 'stages' }));
    expect(current.SecretString).toBe('v2');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'stages' }));
    expect(described.VersionIdsToStages).toEqual({
      [first.VersionId as string]: ['AWSPREVIOUS'],
      [second.VersionId as string]: ['AWSCURRENT'],
      [pending.VersionId as string]: ['AWSPENDING'],
    });
  });

  it('answers a PutSecretValue retried with the same ClientRequestToken with the same version', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'a' }));
    const token = '11111111-2222-4333-8444-555555555555';
    const put = () =>
      sm.send(
        new PutSecretValueCommand({
          SecretId: 'idem',
          SecretString: 'b',
          ClientRequestToken: token,
        }),
      );
    const once = await put();
    const twice = await put();
    expect(twice.VersionId).toBe(token);
    expect(once.VersionId).toBe(token);
    const versions = await s.request('GET', 'secret/metadata/idem');
    expect(versions.body.data.current_version).toBe(2);
    const other = sm.send(
      new PutSecretValueCommand({ SecretId: 'idem', SecretString: 'c', ClientRequestToken: token }),
    );
    expect(await failure(other)).toEqual({ name: 'ResourceExistsException', status: 400 });
  });

  it('refuses with the AWS error types and statuses', async () => {
    expect(await failure(sm.send(new GetSecretValueCommand({ SecretId: 'missing' })))).toEqual({
      name: 'ResourceNotFoundException',
      status: 400,
    });
    await sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'x' }));
    expect(
      await failure(sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'y' }))),
    ).toEqual({ name: 'ResourceExistsException', status: 400 });
    expect(
      await failure(sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'y' }))),
    ).toEqual({ name: 'InvalidParameterException', status: 400 });
    expect(
      await failure(
        sm.send(new GetSecretValueCommand({ SecretId: 'dup', VersionStage: 'AWSPENDING' })),
      ),
    ).toEqual({ name: 'ResourceNotFoundException', status: 400 });
    expect(
      await failure(
        sm.send(
          new DeleteSecretCommand({
            SecretId: 'dup',
            ForceDeleteWithoutRecovery: true,
            RecoveryWindowInDays: 7,
          }),
        ),
      ),
    ).toEqual({ name: 'InvalidParameterException', status: 400 });
  });

  it('deletes with a recovery window, refuses reads until restored, and deletes for good when forced', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'z' }));
    const deleted = await sm.send(
      new DeleteSecretCommand({ SecretId: 'doomed', RecoveryWindowInDays: 7 }),
    );
    expect(deleted.DeletionDate).toBeInstanceOf(Date);
    expect(await failure(sm.send(new GetSecretValueCommand({ SecretId: 'doomed' })))).toEqual({
      name: 'InvalidRequestException',
      status: 400,
    });
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'doomed' }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    await sm.send(new RestoreSecretCommand({ SecretId: 'doomed' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'doomed' }))).SecretString).toBe(
      'z',
    );
    await sm.send(
      new DeleteSecretCommand({ SecretId: 'doomed', ForceDeleteWithoutRecovery: true }),
    );
    expect(await failure(sm.send(new GetSecretValueCommand({ SecretId: 'doomed' })))).toEqual({
      name: 'ResourceNotFoundException',
      status: 400,
    });
    expect((await s.request('GET', 'secret/metadata/doomed')).status).toBe(404);
  });

  it('lists secrets with filters and pages through them with NextToken', async () => {
    for (const name of ['list/a', 'list/b', 'list/c'])
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: name }));
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(
        new ListSecretsCommand({
          MaxResults: 2,
          Filters: [{ Key: 'name', Values: ['list/'] }],
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      names.push(...(page.SecretList ?? []).map((e) => e.Name as string));
      token = page.NextToken;
      pages++;
    } while (token !== undefined);
    expect(names).toEqual(['list/a', 'list/b', 'list/c']);
    expect(pages).toBe(2);
  });

  it('sorts by name across pages, descending too (SortBy name, SortOrder desc)', async () => {
    for (const name of ['order/a', 'order/B', 'order/c', 'order/d', 'order/e'])
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: name }));
    const pagesOf = async (order: 'asc' | 'desc') => {
      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await sm.send(
          new ListSecretsCommand({
            MaxResults: 2,
            SortBy: 'name',
            SortOrder: order,
            Filters: [{ Key: 'name', Values: ['order/'] }],
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        );
        pages.push((page.SecretList ?? []).map((e) => e.Name as string));
        token = page.NextToken;
      } while (token !== undefined);
      return pages;
    };
    // Code-unit order, as KV lists (upper case first).
    expect(await pagesOf('asc')).toEqual([
      ['order/B', 'order/a'],
      ['order/c', 'order/d'],
      ['order/e'],
    ]);
    expect(await pagesOf('desc')).toEqual([
      ['order/e', 'order/d'],
      ['order/c', 'order/a'],
      ['order/B'],
    ]);
    expect(
      await failure(sm.send(new ListSecretsCommand({ SortBy: 'last-accessed-date' }))),
    ).toEqual({ name: 'InvalidParameterException', status: 400 });
  });

  it('reads through AWS what KV wrote, and through KV what AWS wrote', async () => {
    await s.request('POST', 'secret/data/from-kv', { body: { data: { user: 'u', pass: 'p' } } });
    const viaAws = await sm.send(new GetSecretValueCommand({ SecretId: 'from-kv' }));
    expect(JSON.parse(viaAws.SecretString as string)).toEqual({ user: 'u', pass: 'p' });
    await sm.send(new CreateSecretCommand({ Name: 'from-aws', SecretString: '{"k": "v"}' }));
    const viaKv = await s.request('GET', 'secret/data/from-aws');
    expect(viaKv.body.data.data).toEqual({ SecretString: '{"k": "v"}' });
    // A KV write is a new AWSCURRENT version for AWS too.
    await s.request('POST', 'secret/data/from-aws', { body: { data: { SecretString: 'kv2' } } });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'from-aws' }))).SecretString).toBe(
      'kv2',
    );
    const previous = await sm.send(
      new GetSecretValueCommand({ SecretId: 'from-aws', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous.SecretString).toBe('{"k": "v"}');
  });
});
