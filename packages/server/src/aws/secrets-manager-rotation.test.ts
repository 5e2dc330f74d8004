import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, failure, smClient, type TestAccessKey } from '../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { builtInRotators } from '../rotation/built-in-rotators.js';
import type { Rotator } from '../rotation/rotator.js';

/** A value no test writes twice, so a leak of it is unmistakable. */
const canary = () => `sm-rot-canary-${randomBytes(12).toString('hex')}`;

/** The rotator ARN form of docs/aws.md, for this server's default region and account. */
const rotatorArn = (rotator: string) =>
  `arn:aws:lambda:us-east-1:000000000000:function:custos-${rotator}`;

/** A rotator whose test step fails quoting the pending value (the engine must scrub it). */
const failingTest: Rotator = {
  name: 'failing-test',
  checkSettings: () => {},
  create: async () => ({ SecretString: canary() }),
  set: async () => {},
  test: async ({ pending }) => {
    throw new Error(`target refused ${String(pending.SecretString)}`);
  },
};

/** A rotator whose test step waits until the test opens the gate: a rotation held mid-way. */
function gatedRotator() {
  let open: () => void = () => {};
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const rotator: Rotator = {
    name: 'gated',
    checkSettings: () => {},
    create: async () => ({ SecretString: canary() }),
    set: async () => {},
    test: () => gate,
  };
  return {
    rotator,
    release: () => open(),
    rearm: () => {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
  };
}

describe.each(await storageKinds())('RotateSecret and CancelRotateSecret on %s', (kind) => {
  let s: TestServer;
  let key: TestAccessKey;
  let sm: SecretsManagerClient;
  let dir: string;
  const gated = gatedRotator();
  beforeAll(async () => {
    const rotators = builtInRotators();
    rotators.register(failingTest);
    rotators.register(gated.rotator);
    dir = await mkdtemp(join(tmpdir(), 'custos-sm-rotation-'));
    s = await startTestServer(kind, {
      rotators,
      audit: [{ type: 'file', path: join(dir, 'audit.log'), name: 'file' }],
    });
    await s.policy('aws-rot', {
      'secret/*': ['create', 'read', 'update', 'delete', 'list'],
      'sys/rotation/secret/*': ['create', 'read', 'update'],
      'sys/rotate-secret/secret/*': ['update'],
    });
    key = await accessKey(s, ['aws-rot']);
    sm = smClient(s, key);
  });
  afterAll(async () => {
    sm?.destroy();
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const create = (name: string, value = canary()) =>
    sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  const value = async (name: string, stage = 'AWSCURRENT') =>
    (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage })))
      .SecretString;
  const history = async (name: string) =>
    (await s.request('GET', `sys/rotation-history/secret/${name}`)).body.data.runs as {
      state: string;
    }[];

  it('rotates immediately through the random rotator: a new AWSCURRENT, the old AWSPREVIOUS', async () => {
    const old = canary();
    const created = await create('rot/now', old);
    const token = randomUUID();
    const rotated = await sm.send(
      new RotateSecretCommand({
        SecretId: 'rot/now',
        ClientRequestToken: token,
        RotationLambdaARN: rotatorArn('random'),
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    expect(rotated).toMatchObject({ ARN: created.ARN, Name: 'rot/now', VersionId: token });
    const now = await value('rot/now');
    // An AWS string secret stays one: the random rotator wrote SecretString.
    expect(now).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(now).not.toBe(old);
    expect(await value('rot/now', 'AWSPREVIOUS')).toBe(old);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'rot/now' }));
    expect(described).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: rotatorArn('random'),
      RotationRules: { AutomaticallyAfterDays: 30, ScheduleExpression: 'rate(30 days)' },
    });
    expect(described.VersionIdsToStages).toEqual({
      [created.VersionId as string]: ['AWSPREVIOUS'],
      [token]: ['AWSCURRENT'],
    });
    // The next rotation is one schedule after the last one.
    const last = described.LastRotatedDate?.getTime() as number;
    expect((described.NextRotationDate?.getTime() as number) - last).toBe(30 * 86_400_000);
    // ListSecrets says the same.
    const listed = await sm.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['rot/now'] }] }),
    );
    expect(listed.SecretList?.[0]).toMatchObject({ RotationEnabled: true });
  });

  it('answers a retried RotateSecret (same token) with the same VersionId and rotates once', async () => {
    await create('rot/retry');
    const command = new RotateSecretCommand({
      SecretId: 'rot/retry',
      ClientRequestToken: randomUUID(),
      RotationLambdaARN: rotatorArn('random'),
      RotationRules: { ScheduleExpression: 'rate(10 days)' },
    });
    const first = await sm.send(command);
    const after = await value('rot/retry');
    const again = await sm.send(command);
    expect(again.VersionId).toBe(first.VersionId);
    expect(await value('rot/retry')).toBe(after);
    expect((await history('rot/retry')).map((r) => r.state)).toEqual(['succeeded']);
    // A new token rotates again; the version the first made becomes AWSPREVIOUS.
    const third = await sm.send(
      new RotateSecretCommand({ SecretId: 'rot/retry', ClientRequestToken: randomUUID() }),
    );
    expect(third.VersionId).not.toBe(first.VersionId);
    expect(await value('rot/retry', 'AWSPREVIOUS')).toBe(after);
  });

  it('scopes a token to its secret, and refuses one naming a version no rotation made', async () => {
    await create('rot/scope-a');
    await create('rot/scope-b');
    const token = randomUUID();
    const rules = { AutomaticallyAfterDays: 7 };
    const arn = rotatorArn('random');
    const base = { ClientRequestToken: token, RotationLambdaARN: arn, RotationRules: rules };
    await sm.send(new RotateSecretCommand({ SecretId: 'rot/scope-a', ...base }));
    // Another secret may use the same token (AWS scopes a version id to its secret).
    const other = await sm.send(new RotateSecretCommand({ SecretId: 'rot/scope-b', ...base }));
    expect(other.VersionId).toBe(token);
    expect(await value('rot/scope-a')).not.toBe(await value('rot/scope-b'));
    // A token that is the id of a version PutSecretValue wrote is not a rotation's.
    const put = randomUUID();
    await sm.send(
      new PutSecretValueCommand({
        SecretId: 'rot/scope-a',
        SecretString: canary(),
        ClientRequestToken: put,
      }),
    );
    const current = await value('rot/scope-a');
    expect(
      await failure(
        sm.send(new RotateSecretCommand({ SecretId: 'rot/scope-a', ClientRequestToken: put })),
      ),
    ).toEqual({ name: 'ResourceExistsException', status: 400 });
    expect(await value('rot/scope-a')).toBe(current);
  });

  it('sets a schedule without rotating (RotateImmediately false), then DescribeSecret shows it', async () => {
    const old = canary();
    await create('rot/sched', old);
    const answer = await sm.send(
      new RotateSecretCommand({
        SecretId: 'rot/sched',
        RotationLambdaARN: rotatorArn('random'),
        RotationRules: { ScheduleExpression: 'cron(0 3 ? * 2 *)', Duration: '2h' },
        RotateImmediately: false,
      }),
    );
    expect(answer.VersionId).toBeUndefined();
    expect(await value('rot/sched')).toBe(old);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'rot/sched' }));
    expect(described).toMatchObject({
      RotationEnabled: true,
      RotationRules: { ScheduleExpression: 'cron(0 3 ? * 2 *)', Duration: '2h' },
    });
    expect(described.LastRotatedDate).toBeUndefined();
    // AWS's Monday (2) is cron's 1; the window is the Duration.
    const policy = (await s.request('GET', 'sys/rotation/secret/rot/sched')).body.data;
    expect(policy).toMatchObject({
      rotator: 'random',
      schedule: '0 3 * * 1',
      window: '2h0m0s',
      automatic: true,
      settings: { field: 'SecretString' },
    });
    // The next due time is a Monday at 03:00 UTC.
    const next = described.NextRotationDate as Date;
    expect([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 3, 0]);
    // A schedule in hours.
    await sm.send(
      new RotateSecretCommand({
        SecretId: 'rot/sched',
        RotationRules: { ScheduleExpression: 'rate(6 hours)' },
        RotateImmediately: false,
      }),
    );
    expect(
      (await sm.send(new DescribeSecretCommand({ SecretId: 'rot/sched' }))).RotationRules,
    ).toEqual({ ScheduleExpression: 'rate(6 hours)' });
  });

  it('refuses malformed rules and ARNs that name no custos rotator, writing nothing', async () => {
    await create('rot/bad');
    const refused = async (input: Record<string, unknown>, type: string, message?: RegExp) => {
      const sent = sm.send(new RotateSecretCommand({ SecretId: 'rot/bad', ...input }));
      expect(await failure(sent)).toMatchObject({ name: type });
      if (message !== undefined)
        await expect(
          sm.send(new RotateSecretCommand({ SecretId: 'rot/bad', ...input })),
        ).rejects.toThrow(message);
    };
    const rules = { AutomaticallyAfterDays: 30 };
    await refused({ RotationRules: rules }, 'InvalidRequestException', /RotationLambdaARN/);
    await refused(
      {
        RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:my-rotation',
        RotationRules: rules,
      },
      'InvalidParameterException',
      /custos runs no Lambda functions/,
    );
    await refused(
      {
        RotationLambdaARN: 'arn:aws:lambda:eu-west-1:000000000000:function:custos-random',
        RotationRules: rules,
      },
      'InvalidParameterException',
    );
    await refused(
      { RotationLambdaARN: rotatorArn('nope'), RotationRules: rules },
      'InvalidParameterException',
      /available: .*random/,
    );
    await refused({ RotationLambdaARN: rotatorArn('random') }, 'InvalidParameterException');
    for (const bad of [
      { AutomaticallyAfterDays: 0 },
      { AutomaticallyAfterDays: 30, ScheduleExpression: 'rate(30 days)' },
      { ScheduleExpression: 'rate(2 hours)' },
      { ScheduleExpression: 'cron(0 3 * * 2 *)' },
      { ScheduleExpression: 'cron(0 3 ? * 2 2030)' },
      { ScheduleExpression: 'cron(0 3 ? * 9 *)' },
      { ScheduleExpression: 'every day' },
      { ScheduleExpression: 'rate(10 days)', Duration: '2h' },
      { ScheduleExpression: 'cron(0 3 ? * 2 *)', Duration: '25h' },
    ])
      await refused(
        { RotationLambdaARN: rotatorArn('random'), RotationRules: bad },
        'InvalidParameterException',
      );
    expect((await s.request('GET', 'sys/rotation/secret/rot/bad')).status).toBe(404);
    expect(
      (await sm.send(new DescribeSecretCommand({ SecretId: 'rot/bad' }))).RotationEnabled,
    ).toBe(false);
  });

  it('cancels: rotation disabled, RotateSecret turns it on again', async () => {
    await create('rot/cancel');
    await sm.send(
      new RotateSecretCommand({
        SecretId: 'rot/cancel',
        RotationLambdaARN: rotatorArn('random'),
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    const cancelled = await sm.send(new CancelRotateSecretCommand({ SecretId: 'rot/cancel' }));
    expect(cancelled.Name).toBe('rot/cancel');
    expect(cancelled.VersionId).toBeUndefined();
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'rot/cancel' }));
    expect(described.RotationEnabled).toBe(false);
    expect(described.NextRotationDate).toBeUndefined();
    expect(described.RotationRules).toMatchObject({ AutomaticallyAfterDays: 30 });
    expect((await s.request('GET', 'sys/rotation/secret/rot/cancel')).body.data.automatic).toBe(
      false,
    );
    await sm.send(new RotateSecretCommand({ SecretId: 'rot/cancel' }));
    expect(
      (await sm.send(new DescribeSecretCommand({ SecretId: 'rot/cancel' }))).RotationEnabled,
    ).toBe(true);
  });

  it('leaves AWSPENDING where a rotation left it when cancelled mid-way, and refuses to rotate over it', async () => {
    await create('rot/midway');
    const pending = await sm.send(
      new PutSecretValueCommand({
        SecretId: 'rot/midway',
        SecretString: canary(),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const cancelled = await sm.send(new CancelRotateSecretCommand({ SecretId: 'rot/midway' }));
    expect(cancelled.VersionId).toBe(pending.VersionId);
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: 'rot/midway' })))
      .VersionIdsToStages;
    expect(stages?.[pending.VersionId as string]).toEqual(['AWSPENDING']);
    expect(
      await failure(
        sm.send(
          new RotateSecretCommand({
            SecretId: 'rot/midway',
            RotationLambdaARN: rotatorArn('random'),
            RotationRules: { AutomaticallyAfterDays: 30 },
          }),
        ),
      ),
    ).toEqual({ name: 'InvalidRequestException', status: 400 });
  });

  it('rotates a secret written through the KV API by the policy written through sys/rotation', async () => {
    const password = canary();
    await s.request('POST', 'secret/data/rot/kv', {
      body: { data: { user: 'app', password } },
    });
    expect(
      (
        await s.request('POST', 'sys/rotation/secret/rot/kv', {
          body: {
            rotator: 'random',
            schedule: '90d',
            grace_period: '24h',
            settings: { field: 'password', length: 40, charset: 'hex' },
          },
        })
      ).status,
    ).toBe(204);
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: 'rot/kv' }));
    const read = await s.request('GET', 'secret/data/rot/kv');
    expect(read.body.data.data.user).toBe('app');
    expect(read.body.data.data.password).toMatch(/^[0-9a-f]{40}$/);
    expect(JSON.parse((await value('rot/kv')) as string)).toEqual(read.body.data.data);
    const previous = await s.request('GET', 'secret/data/rot/kv?stage=previous');
    expect(previous.body.data.data.password).toBe(password);
    expect(rotated.VersionId).toBeDefined();
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'rot/kv' }));
    expect(described.RotationRules).toMatchObject({ AutomaticallyAfterDays: 90 });
    expect(described.VersionIdsToStages?.[rotated.VersionId as string]).toEqual(['AWSCURRENT']);
  });

  it('a failed rotation (test step) leaves AWSCURRENT untouched and says why without the value', async () => {
    const old = canary();
    await create('rot/fail', old);
    const command = new RotateSecretCommand({
      SecretId: 'rot/fail',
      ClientRequestToken: randomUUID(),
      RotationLambdaARN: rotatorArn('failing-test'),
      RotationRules: { AutomaticallyAfterDays: 30 },
    });
    const error = await sm.send(command).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.name).toBe('InvalidRequestException');
    expect(error?.message).toMatch(/failed at its test step and was rolled back/);
    expect(error?.message).toContain('[REDACTED]');
    expect(`${error?.message}${error?.stack}${JSON.stringify(error)}`).not.toContain(
      'sm-rot-canary-',
    );
    expect(await value('rot/fail')).toBe(old);
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: 'rot/fail' })))
      .VersionIdsToStages;
    expect(Object.values(stages ?? {})).toEqual([['AWSCURRENT']]);
    // The same token again: the same answer, no second rotation.
    expect(await failure(sm.send(command))).toEqual({
      name: 'InvalidRequestException',
      status: 400,
    });
    expect((await history('rot/fail')).map((r) => r.state)).toEqual(['rolled_back']);
  });

  it('shows AWSPENDING during a rotation, refuses a second one meanwhile, AWSPREVIOUS after', async () => {
    const old = canary();
    const created = await create('rot/during', old);
    gated.rearm();
    const token = randomUUID();
    const running = sm.send(
      new RotateSecretCommand({
        SecretId: 'rot/during',
        ClientRequestToken: token,
        RotationLambdaARN: rotatorArn('gated'),
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    let stages: Record<string, string[]> | undefined;
    for (let i = 0; i < 200; i++) {
      stages = (await sm.send(new DescribeSecretCommand({ SecretId: 'rot/during' })))
        .VersionIdsToStages;
      if (stages?.[token] !== undefined) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(stages).toEqual({
      [created.VersionId as string]: ['AWSCURRENT'],
      [token]: ['AWSPENDING'],
    });
    expect(await value('rot/during')).toBe(old);
    expect(
      await failure(
        sm.send(
          new RotateSecretCommand({ SecretId: 'rot/during', ClientRequestToken: randomUUID() }),
        ),
      ),
    ).toEqual({ name: 'InvalidRequestException', status: 400 });
    gated.release();
    expect((await running).VersionId).toBe(token);
    expect(
      (await sm.send(new DescribeSecretCommand({ SecretId: 'rot/during' }))).VersionIdsToStages,
    ).toEqual({ [created.VersionId as string]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    expect(await value('rot/during', 'AWSPREVIOUS')).toBe(old);
  });

  it('refuses RotateSecret where the policy asks for two-person approval', async () => {
    await create('rot/approve');
    await s.request('POST', 'sys/rotation/secret/rot/approve', {
      body: {
        rotator: 'random',
        schedule: '90d',
        approvals: 1,
        settings: { field: 'SecretString' },
      },
    });
    const before = await value('rot/approve');
    await expect(sm.send(new RotateSecretCommand({ SecretId: 'rot/approve' }))).rejects.toThrow(
      /two-person approval/,
    );
    expect(await value('rot/approve')).toBe(before);
    // Turning the schedule on without rotating keeps the approvals.
    await sm.send(new RotateSecretCommand({ SecretId: 'rot/approve', RotateImmediately: false }));
    expect((await s.request('GET', 'sys/rotation/secret/rot/approve')).body.data.approvals).toBe(1);
  });

  it('never writes a value (old, pending or current) into the audit log', async () => {
    const audit = await readFile(join(dir, 'audit.log'), 'utf8');
    expect(audit).toContain('RotateSecret');
    expect(audit).toContain('sys/rotation-step/secret/rot/fail');
    expect(audit).not.toContain('sm-rot-canary-');
  });
  it('CancelRotateSecret racing sys/rotation writes never loses the written policy', async () => {
    await create('rot/race');
    const store = s.server.context.rotation.store;
    const write = (notifyHours: number) =>
      s.request('POST', 'sys/rotation/secret/rot/race', {
        body: {
          rotator: 'random',
          schedule: '30d',
          grace_period: '1h',
          notify_before: `${notifyHours}h`,
        },
      });
    for (let round = 1; round <= 15; round++) {
      expect((await write(100 + round)).status).toBe(204);
      const [written, cancelled] = await Promise.all([
        write(round),
        sm.send(new CancelRotateSecretCommand({ SecretId: 'rot/race' })),
      ]);
      expect(written.status).toBe(204);
      expect(cancelled.Name).toBe('rot/race');
      // Whichever came last, the concurrent write's content is in force (never reverted by
      // the cancel's rewrite of the policy it read).
      const policy = await store.readPolicy('secret/rot/race');
      expect(policy?.notify_before).toBe(round * 3600);
    }
  });
});

describe('RotateSecret and CancelRotateSecret: the ACL', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
    await s.policy('secrets-only', { 'secret/*': ['create', 'read', 'update', 'delete', 'list'] });
    await s.policy('rotate-acl', {
      'secret/*': ['create', 'read', 'update', 'delete', 'list'],
      'sys/rotation/secret/acl/*': ['update'],
      'sys/rotate-secret/secret/acl/*': ['update'],
    });
    await s.policy('policy-only', {
      'secret/*': ['create', 'read', 'update', 'delete', 'list'],
      'sys/rotation/secret/*': ['update'],
    });
  });
  afterAll(async () => {
    await s.close();
  });

  const rotate = (sm: SecretsManagerClient, id: string) =>
    sm.send(
      new RotateSecretCommand({
        SecretId: id,
        RotationLambdaARN: rotatorArn('random'),
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );

  it('denies a key without rights on sys/rotation and sys/rotate-secret (AccessDeniedException)', async () => {
    const sm = smClient(s, await accessKey(s, ['secrets-only']));
    const created = await sm.send(
      new CreateSecretCommand({ Name: 'acl/a', SecretString: canary() }),
    );
    const before = (await sm.send(new GetSecretValueCommand({ SecretId: 'acl/a' }))).SecretString;
    expect(await failure(rotate(sm, 'acl/a'))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
    });
    expect(await failure(sm.send(new CancelRotateSecretCommand({ SecretId: 'acl/a' })))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
    });
    // Writing the policy is not asking for a rotation: both are needed.
    const policyOnly = smClient(s, await accessKey(s, ['policy-only']));
    expect(await failure(rotate(policyOnly, 'acl/a'))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
    });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'acl/a' }))).SecretString).toBe(
      before,
    );
    expect((await s.request('GET', 'sys/rotation/secret/acl/a')).status).toBe(404);
    expect(created.Name).toBe('acl/a');
  });

  it('judges the secret by the one name it has: case, ARN and path variants', async () => {
    const root = smClient(s, await accessKey(s, ['secrets-only']));
    const sm = smClient(s, await accessKey(s, ['rotate-acl']));
    const created = await root.send(
      new CreateSecretCommand({ Name: 'acl/b', SecretString: canary() }),
    );
    await root.send(new CreateSecretCommand({ Name: 'ACL/b', SecretString: canary() }));
    await root.send(new CreateSecretCommand({ Name: 'other', SecretString: canary() }));
    // Granted on acl/*: by name and by ARN.
    expect((await rotate(sm, 'acl/b')).Name).toBe('acl/b');
    expect((await rotate(sm, created.ARN as string)).Name).toBe('acl/b');
    // Another case is another secret, not granted.
    expect(await failure(rotate(sm, 'ACL/b'))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
    });
    // Dot segments and empty segments are refused before anything is judged against them.
    for (const id of ['acl/../other', 'acl/./b', 'acl//b', 'acl/b/'])
      expect(await failure(rotate(sm, id))).toEqual({
        name: 'InvalidParameterException',
        status: 400,
      });
    expect((await s.request('GET', 'sys/rotation/secret/other')).status).toBe(404);
    expect((await s.request('GET', 'sys/rotation/secret/ACL/b')).status).toBe(404);
    // Cancel is granted where the policy may be written.
    expect((await sm.send(new CancelRotateSecretCommand({ SecretId: 'acl/b' }))).Name).toBe(
      'acl/b',
    );
    expect(await failure(sm.send(new CancelRotateSecretCommand({ SecretId: 'other' })))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
    });
  });
});
