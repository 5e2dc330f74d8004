import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  type KMSClient,
  ListAliasesCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
} from '@aws-sdk/client-kms';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessKey,
  failure,
  kmsClient,
  sendSigned,
  signRequest,
  type TestAccessKey,
} from '../../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';
import { kmsApi } from '../paths/kms-api.js';
import { createKmsStore } from './kms-store.js';

const bytes = (value: string) => Buffer.from(value, 'utf8');
const denied = { name: 'AccessDeniedException', status: 400 };
const badCiphertext = { name: 'InvalidCiphertextException', status: 400 };

describe.each(await storageKinds())('KMS API attacks on %s', (kind) => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  const logs: string[] = [];
  let all: KMSClient;
  let onlyA: KMSClient;
  let allKey: TestAccessKey;
  // Generated at run time: nothing secret-looking is committed.
  const canary = `kms-canary-${randomBytes(12).toString('hex')}`;
  const dataKeys: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-kms-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer(kind, {
      logLevel: 'debug',
      logDestination: { write: (line) => logs.push(line) },
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    await s.policy('kms-all', {
      'transit/*': ['create', 'read', 'update', 'delete', 'list'],
      'aws/kms/*': ['create', 'read', 'update', 'delete', 'list'],
    });
    await s.policy('kms-a', {
      'transit/encrypt/key-a': ['update'],
      'transit/decrypt/key-a': ['update'],
      'transit/keys/key-a': ['read'],
    });
    for (const name of ['key-a', 'key-b', 'key-c'])
      expect((await s.request('POST', `transit/keys/${name}`)).status).toBe(200);
    allKey = await accessKey(s, ['kms-all']);
    all = kmsClient(s, allKey);
    onlyA = kmsClient(s, await accessKey(s, ['kms-a']));
  });
  afterAll(async () => {
    all?.destroy();
    onlyA?.destroy();
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const encrypt = async (keyId: string, context?: Record<string, string>) =>
    (
      await all.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: bytes(canary),
          ...(context === undefined ? {} : { EncryptionContext: context }),
        }),
      )
    ).CiphertextBlob as Uint8Array;

  it('refuses every operation on a key the access key has no rights on', async () => {
    expect(
      await onlyA.send(new EncryptCommand({ KeyId: 'key-a', Plaintext: bytes('ok') })),
    ).toHaveProperty('CiphertextBlob');
    expect(
      await failure(onlyA.send(new EncryptCommand({ KeyId: 'key-b', Plaintext: bytes('no') }))),
    ).toEqual(denied);
    const blobB = await encrypt('key-b');
    expect(await failure(onlyA.send(new DecryptCommand({ CiphertextBlob: blobB })))).toEqual(
      denied,
    );
    // Naming key A beside B's blob changes nothing: the blob's key is judged.
    expect(
      await failure(onlyA.send(new DecryptCommand({ CiphertextBlob: blobB, KeyId: 'key-a' }))),
    ).toEqual(denied);
    const blobA = await encrypt('key-a');
    expect(
      await failure(
        onlyA.send(new ReEncryptCommand({ CiphertextBlob: blobA, DestinationKeyId: 'key-b' })),
      ),
    ).toEqual(denied);
    expect(await failure(onlyA.send(new DescribeKeyCommand({ KeyId: 'key-b' })))).toEqual(denied);
    expect(await failure(onlyA.send(new CreateKeyCommand({})))).toEqual(denied);
    expect(
      await failure(onlyA.send(new GenerateDataKeyCommand({ KeyId: 'key-a', KeySpec: 'AES_256' }))),
    ).toEqual(denied);
    expect(
      await failure(
        onlyA.send(new CreateAliasCommand({ AliasName: 'alias/mine', TargetKeyId: 'key-a' })),
      ),
    ).toEqual(denied);
    expect(await failure(onlyA.send(new DisableKeyCommand({ KeyId: 'key-a' })))).toEqual(denied);
  });

  it('refuses AWS requests where the deciding rule has parameter constraints', async () => {
    const policy = [
      'path "transit/encrypt/key-a" {',
      '  capabilities = ["update"]',
      '  allowed_parameters = { "plaintext" = [] }',
      '}',
    ].join('\n');
    expect(
      (await s.request('POST', 'sys/policies/acl/kms-constrained', { body: { policy } })).status,
    ).toBe(204);
    const constrained = kmsClient(s, await accessKey(s, ['kms-constrained']));
    expect(
      await failure(
        constrained.send(new EncryptCommand({ KeyId: 'key-a', Plaintext: bytes('x') })),
      ),
    ).toEqual(denied);
    constrained.destroy();
  });

  it('refuses a blob of key A presented as key B (IncorrectKeyException), relabelled or altered', async () => {
    const blob = Buffer.from(await encrypt('key-a', { tenant: 't1' }));
    const context = { tenant: 't1' };
    expect(
      await failure(
        all.send(
          new DecryptCommand({ CiphertextBlob: blob, KeyId: 'key-b', EncryptionContext: context }),
        ),
      ),
    ).toEqual({ name: 'IncorrectKeyException', status: 400 });
    // The header names key-b (same length): key-b's key does not open it, the header is bound.
    const relabelled = Buffer.from(blob);
    relabelled.write('key-b', 2, 'latin1');
    expect(
      await failure(
        all.send(new DecryptCommand({ CiphertextBlob: relabelled, EncryptionContext: context })),
      ),
    ).toEqual(badCiphertext);
    // Rotate key-a, then point the blob at version 2: the header is authenticated too.
    expect((await s.request('POST', 'transit/keys/key-a/rotate')).status).toBe(200);
    const otherVersion = Buffer.from(blob);
    otherVersion.writeUInt32BE(2, 2 + 5);
    expect(
      await failure(
        all.send(new DecryptCommand({ CiphertextBlob: otherVersion, EncryptionContext: context })),
      ),
    ).toEqual(badCiphertext);
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    for (const bad of [
      flipped,
      blob.subarray(0, blob.length - 1),
      blob.subarray(0, 12),
      randomBytes(64),
    ])
      expect(
        await failure(
          all.send(new DecryptCommand({ CiphertextBlob: bad, EncryptionContext: context })),
        ),
      ).toEqual(badCiphertext);
    // The blob itself still opens.
    const ok = await all.send(
      new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }),
    );
    expect(Buffer.from(ok.Plaintext as Uint8Array).toString()).toBe(canary);
  });

  it('binds the encryption context: changed, missing, extra or re-split members fail', async () => {
    const context = { tenant: 't1', table: 'orders' };
    const blob = await encrypt('key-c', context);
    const tries: (Record<string, string> | undefined)[] = [
      undefined,
      {},
      { tenant: 't2', table: 'orders' },
      { tenant: 't1' },
      { tenant: 't1', table: 'orders', extra: '' },
      { Tenant: 't1', table: 'orders' },
    ];
    for (const tried of tries)
      expect(
        await failure(
          all.send(
            new DecryptCommand({
              CiphertextBlob: blob,
              ...(tried === undefined ? {} : { EncryptionContext: tried }),
            }),
          ),
        ),
        JSON.stringify(tried),
      ).toEqual(badCiphertext);
    // The encoding is length-prefixed: {ab: c} and {a: bc} are two contexts.
    const split = await encrypt('key-c', { ab: 'c' });
    expect(
      await failure(
        all.send(new DecryptCommand({ CiphertextBlob: split, EncryptionContext: { a: 'bc' } })),
      ),
    ).toEqual(badCiphertext);
    const reordered = await all.send(
      new DecryptCommand({
        CiphertextBlob: blob,
        EncryptionContext: { table: 'orders', tenant: 't1' },
      }),
    );
    expect(Buffer.from(reordered.Plaintext as Uint8Array).toString()).toBe(canary);
  });

  it('refuses a disabled key (DisabledException) and a key pending deletion (KMSInvalidStateException)', async () => {
    const keyId = (await all.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId as string;
    const blob = await encrypt(keyId);
    await all.send(new DisableKeyCommand({ KeyId: keyId }));
    const disabled = { name: 'DisabledException', status: 400 };
    expect(
      await failure(all.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') }))),
    ).toEqual(disabled);
    expect(await failure(all.send(new DecryptCommand({ CiphertextBlob: blob })))).toEqual(disabled);
    expect(
      await failure(all.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }))),
    ).toEqual(disabled);
    await all.send(new EnableKeyCommand({ KeyId: keyId }));
    await all.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    const invalidState = { name: 'KMSInvalidStateException', status: 400 };
    expect(
      await failure(all.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') }))),
    ).toEqual(invalidState);
    expect(await failure(all.send(new DecryptCommand({ CiphertextBlob: blob })))).toEqual(
      invalidState,
    );
    expect(
      await failure(
        all.send(new CreateAliasCommand({ AliasName: 'alias/doomed', TargetKeyId: keyId })),
      ),
    ).toEqual(invalidState);
    // Transit refuses it too: one state for both APIs.
    const viaTransit = await s.request('POST', `transit/encrypt/${keyId}`, {
      body: { plaintext: Buffer.from('x').toString('base64') },
    });
    expect(viaTransit.status).toBe(400);
    await all.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect(await failure(all.send(new DecryptCommand({ CiphertextBlob: blob })))).toEqual(disabled);
    // A key revoked through transit is disabled for the KMS API.
    expect(
      (await s.request('POST', `transit/keys/${keyId}/state`, { body: { state: 'revoked' } }))
        .status,
    ).toBeLessThan(300);
    expect(await failure(all.send(new DecryptCommand({ CiphertextBlob: blob })))).toEqual(disabled);
  });

  it('keeps alias and key id case: alias/Foo and alias/foo are two aliases, judged on the keys they name', async () => {
    await all.send(new CreateAliasCommand({ AliasName: 'alias/Foo', TargetKeyId: 'key-a' }));
    await all.send(new CreateAliasCommand({ AliasName: 'alias/foo', TargetKeyId: 'key-b' }));
    const listed = await all.send(new ListAliasesCommand({}));
    expect(
      listed.Aliases?.filter((a) => a.AliasName?.toLowerCase() === 'alias/foo').map((a) => [
        a.AliasName,
        a.TargetKeyId,
      ]),
    ).toEqual([
      ['alias/Foo', 'key-a'],
      ['alias/foo', 'key-b'],
    ]);
    const viaUpper = await onlyA.send(
      new EncryptCommand({ KeyId: 'alias/Foo', Plaintext: bytes('a') }),
    );
    expect(viaUpper.KeyId).toMatch(/key\/key-a$/);
    expect(
      await failure(onlyA.send(new EncryptCommand({ KeyId: 'alias/foo', Plaintext: bytes('b') }))),
    ).toEqual(denied);
    // An alias that names no key: denied without the right to read it, not found with it.
    expect(
      await failure(onlyA.send(new EncryptCommand({ KeyId: 'alias/FOO', Plaintext: bytes('c') }))),
    ).toEqual(denied);
    expect(
      await failure(all.send(new EncryptCommand({ KeyId: 'alias/FOO', Plaintext: bytes('c') }))),
    ).toEqual({
      name: 'NotFoundException',
      status: 400,
    });
    // Key ids are transit names, case and all.
    expect(
      await failure(onlyA.send(new EncryptCommand({ KeyId: 'KEY-A', Plaintext: bytes('d') }))),
    ).toEqual(denied);
    expect(
      await failure(all.send(new EncryptCommand({ KeyId: 'KEY-A', Plaintext: bytes('d') }))),
    ).toEqual({
      name: 'NotFoundException',
      status: 400,
    });
    for (const bad of ['alias/aws/s3', 'alias/', 'alias/a//b', 'alias/a b', 'alias/../x'])
      expect(
        await failure(all.send(new CreateAliasCommand({ AliasName: bad, TargetKeyId: 'key-a' }))),
        bad,
      ).toEqual({ name: 'ValidationException', status: 400 });
  });

  it('runs on the key the alias named when it was judged, even if the alias moves meanwhile', async () => {
    const { context } = s.server;
    const store = createKmsStore(context.barrier);
    const api = kmsApi({
      transit: context.transit,
      usage: context.transitUsage,
      store,
      site: { transitMount: 'transit', region: 'us-east-1', accountId: '000000000000' },
      now: Date.now,
    });
    await all.send(new CreateAliasCommand({ AliasName: 'alias/moving', TargetKeyId: 'key-a' }));
    // The request as the route sees it: an id and the caller admission found.
    const request = {
      id: 'race-1',
      custos: { identity: { displayName: 'aws-access-key' } },
    } as unknown as FastifyRequest;
    const body = { KeyId: 'alias/moving', Plaintext: Buffer.from('x').toString('base64') };
    expect(await api.resolve(request, 'Encrypt', body)).toEqual([
      { path: 'transit/encrypt/key-a', operation: 'update' },
    ]);
    await store.updateAlias('alias/moving', 'key-b', Math.floor(Date.now() / 1000));
    const result = await api.run(request, 'Encrypt', body);
    expect(result.KeyId).toMatch(/key\/key-a$/);
    // A request that was never admitted does not run.
    const stray = { id: 'race-2', custos: {} } as unknown as FastifyRequest;
    await expect(api.run(stray, 'Encrypt', body)).rejects.toThrow(/without being admitted/);
  });

  it('refuses a signature scoped to another service, and an anonymous request learns nothing', async () => {
    const signedForSm = await signRequest(s, allKey, 'Encrypt', {
      KeyId: 'key-a',
      Plaintext: 'eA==',
    });
    const asKms = {
      ...signedForSm,
      headers: { ...signedForSm.headers, 'x-amz-target': 'TrentService.Encrypt' },
    };
    expect((await sendSigned(asKms)).status).toBe(403);
    const signedForKms = await signRequest(
      s,
      allKey,
      'DescribeKey',
      { KeyId: 'key-a' },
      new Date(),
      false,
      'kms',
    );
    expect((await sendSigned(signedForKms)).body).toMatchObject({
      KeyMetadata: { KeyId: 'key-a' },
    });
    const asSm = {
      ...signedForKms,
      headers: { ...signedForKms.headers, 'x-amz-target': 'secretsmanager.ListSecrets' },
    };
    expect((await sendSigned(asSm)).status).toBe(403);
    const unsigned = await fetch(`${s.url}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.Decrypt',
      },
      body: '{"CiphertextBlob": "AAAA"}',
    });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });

  it('refuses oversized and malformed fields with ValidationException, naming the field only', async () => {
    const big = randomBytes(4097);
    const tooBig = await all
      .send(new EncryptCommand({ KeyId: 'key-c', Plaintext: big }))
      .catch((err: Error) => err);
    expect(tooBig).toMatchObject({ name: 'ValidationException' });
    expect((tooBig as Error).message).toContain('Plaintext');
    const badContext = await sendSigned(
      await signRequest(
        s,
        allKey,
        'Encrypt',
        { KeyId: 'key-c', Plaintext: 'eA==', EncryptionContext: { a: 5 } },
        new Date(),
        false,
        'kms',
      ),
    );
    expect(badContext.body).toMatchObject({ __type: 'ValidationException' });
    const notBase64 = await sendSigned(
      await signRequest(
        s,
        allKey,
        'Decrypt',
        { CiphertextBlob: 'not base64!' },
        new Date(),
        false,
        'kms',
      ),
    );
    expect(notBase64.body).toMatchObject({ __type: 'ValidationException' });
    const unknownOp = await sendSigned(
      await signRequest(s, allKey, 'ImportKeyMaterial', {}, new Date(), false, 'kms'),
    );
    expect(unknownOp.body).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('shows no plaintext or data key in responses to failures, the audit log or the server log', async () => {
    const blob = await encrypt('key-c', { k: 'v' });
    const errors: string[] = [];
    try {
      await all.send(
        new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { k: canary } }),
      );
    } catch (err) {
      errors.push(String((err as Error).message));
    }
    try {
      await all.send(new EncryptCommand({ KeyId: 'key-missing', Plaintext: bytes(canary) }));
    } catch (err) {
      errors.push(String((err as Error).message));
    }
    const generated = await all.send(
      new GenerateDataKeyCommand({ KeyId: 'key-c', KeySpec: 'AES_256' }),
    );
    dataKeys.push(Buffer.from(generated.Plaintext as Uint8Array).toString('base64'));
    await all.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob }));
    await all
      .send(
        new SignCommand({
          KeyId: 'key-a',
          Message: bytes(canary),
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      )
      .catch(() => undefined);
    expect(errors).toHaveLength(2);
    const audit = await readFile(auditFile, 'utf8');
    const kmsEntries = audit.split('\n').filter((l) => l.includes('transit/'));
    expect(kmsEntries.length).toBeGreaterThan(4);
    const logText = logs.join('\n');
    const b64 = Buffer.from(canary).toString('base64');
    for (const secret of [canary, b64, ...dataKeys, allKey.secretAccessKey]) {
      expect(audit.includes(secret)).toBe(false);
      expect(logText.includes(secret)).toBe(false);
      for (const message of errors) expect(message.includes(secret)).toBe(false);
    }
  });

  // Last: it seals the server.
  it('answers 503 KMSInternalException once sealed', async () => {
    expect((await s.request('POST', 'sys/seal')).status).toBe(204);
    expect(await failure(all.send(new DescribeKeyCommand({ KeyId: 'key-a' })))).toEqual({
      name: 'KMSInternalException',
      status: 503,
    });
  });
});
