import { createPublicKey, verify } from 'node:crypto';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, failure, kmsClient } from '../../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const bytes = (value: string) => Buffer.from(value, 'utf8');

describe.each(await storageKinds())('KMS API on transit keys on %s', (kind) => {
  let s: TestServer;
  let kms: KMSClient;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.policy('kms-all', {
      'transit/*': ['create', 'read', 'update', 'delete', 'list'],
      'aws/kms/*': ['create', 'read', 'update', 'delete', 'list'],
    });
    kms = kmsClient(s, await accessKey(s, ['kms-all']));
  });
  afterAll(async () => {
    kms?.destroy();
    await s.close();
  });

  const newKey = async (input: ConstructorParameters<typeof CreateKeyCommand>[0] = {}) =>
    (await kms.send(new CreateKeyCommand(input))).KeyMetadata?.KeyId as string;

  it('creates a symmetric key (a transit key named by its key id) and describes it', async () => {
    const created = await kms.send(new CreateKeyCommand({ Description: 'orders' }));
    const meta = created.KeyMetadata;
    expect(meta?.KeyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta?.Arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${meta?.KeyId}`);
    expect(meta).toMatchObject({
      KeyState: 'Enabled',
      Enabled: true,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Description: 'orders',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    });
    const transit = await s.request('GET', `transit/keys/${meta?.KeyId}`);
    expect(transit.status).toBe(200);
    expect(transit.body.data.type).toBe('aes256-gcm96');
    const described = await kms.send(new DescribeKeyCommand({ KeyId: meta?.Arn }));
    expect(described.KeyMetadata?.KeyId).toBe(meta?.KeyId);
    const listed = await kms.send(new ListKeysCommand({}));
    expect(listed.Keys?.map((k) => k.KeyId)).toContain(meta?.KeyId);
  });

  it('encrypts and decrypts with the key read from the blob, the context bound in any order', async () => {
    const keyId = await newKey();
    const encrypted = await kms.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: bytes('attack at dawn'),
        EncryptionContext: { tenant: 't1', purpose: 'orders' },
      }),
    );
    expect(encrypted.KeyId).toBe(`arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
    const decrypted = await kms.send(
      new DecryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        EncryptionContext: { purpose: 'orders', tenant: 't1' },
      }),
    );
    expect(text(decrypted.Plaintext)).toBe('attack at dawn');
    expect(decrypted.KeyId).toBe(encrypted.KeyId);
    // The blob names the key and its version (docs/aws.md): format 1, the key id, version 1.
    const blob = Buffer.from(encrypted.CiphertextBlob as Uint8Array);
    expect(blob[0]).toBe(1);
    expect(blob.subarray(2, 2 + (blob[1] as number)).toString()).toBe(keyId);
  });

  it('serves a key made through transit, and KMS uses show in its usage log', async () => {
    expect((await s.request('POST', 'transit/keys/vault-made')).status).toBe(200);
    const encrypted = await kms.send(
      new EncryptCommand({ KeyId: 'vault-made', Plaintext: bytes('both apis') }),
    );
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, KeyId: 'vault-made' }),
    );
    expect(text(decrypted.Plaintext)).toBe('both apis');
    const usage = await s.request('GET', 'transit/keys/vault-made/usage');
    expect(usage.status).toBe(200);
    const entries = usage.body.data.usage as {
      operation: string;
      success: boolean;
      display_name: string;
    }[];
    expect(entries.map((e) => `${e.operation}:${e.success}:${e.display_name}`)).toEqual(
      expect.arrayContaining(['encrypt:true:aws-access-key', 'decrypt:true:aws-access-key']),
    );
  });

  it('generates data keys, with and without the plaintext, that decrypt to the same key', async () => {
    const keyId = await newKey();
    const context = { file: 'a.bin' };
    const withPlain = await kms.send(
      new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
    );
    expect(withPlain.Plaintext?.length).toBe(32);
    const back = await kms.send(
      new DecryptCommand({ CiphertextBlob: withPlain.CiphertextBlob, EncryptionContext: context }),
    );
    expect(Buffer.from(back.Plaintext as Uint8Array)).toEqual(
      Buffer.from(withPlain.Plaintext as Uint8Array),
    );
    const wrapped = await kms.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, NumberOfBytes: 64 }),
    );
    expect(wrapped).not.toHaveProperty('Plaintext');
    const unwrapped = await kms.send(
      new DecryptCommand({ CiphertextBlob: wrapped.CiphertextBlob }),
    );
    expect(unwrapped.Plaintext?.length).toBe(64);
  });

  it('re-encrypts under another key and context', async () => {
    const from = await newKey();
    const to = await newKey();
    const first = await kms.send(
      new EncryptCommand({
        KeyId: from,
        Plaintext: bytes('moving'),
        EncryptionContext: { a: '1' },
      }),
    );
    const moved = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: first.CiphertextBlob,
        SourceEncryptionContext: { a: '1' },
        DestinationKeyId: to,
        DestinationEncryptionContext: { b: '2' },
      }),
    );
    expect(moved.SourceKeyId).toMatch(new RegExp(`key/${from}$`));
    expect(moved.KeyId).toMatch(new RegExp(`key/${to}$`));
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { b: '2' } }),
    );
    expect(text(decrypted.Plaintext)).toBe('moving');
    expect(decrypted.KeyId).toBe(moved.KeyId);
  });

  it('creates aliases, lists them, and encrypts through one', async () => {
    const keyId = await newKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app/orders', TargetKeyId: keyId }));
    expect(
      await failure(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/app/orders', TargetKeyId: keyId })),
      ),
    ).toEqual({ name: 'AlreadyExistsException', status: 400 });
    const listed = await kms.send(new ListAliasesCommand({ KeyId: keyId }));
    expect(listed.Aliases).toEqual([
      expect.objectContaining({
        AliasName: 'alias/app/orders',
        AliasArn: 'arn:aws:kms:us-east-1:000000000000:alias/app/orders',
        TargetKeyId: keyId,
      }),
    ]);
    const encrypted = await kms.send(
      new EncryptCommand({ KeyId: 'alias/app/orders', Plaintext: bytes('via alias') }),
    );
    expect(encrypted.KeyId).toMatch(new RegExp(`key/${keyId}$`));
    const described = await kms.send(
      new DescribeKeyCommand({ KeyId: 'arn:aws:kms:us-east-1:000000000000:alias/app/orders' }),
    );
    expect(described.KeyMetadata?.KeyId).toBe(keyId);
    expect(await failure(kms.send(new DescribeKeyCommand({ KeyId: 'alias/app/missing' })))).toEqual(
      { name: 'NotFoundException', status: 400 },
    );
  });

  it('turns automatic rotation on and off (transit auto_rotate_period)', async () => {
    const keyId = await newKey();
    const before = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    expect(before.KeyRotationEnabled).toBe(false);
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
    const after = await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    expect(after).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });
    const transit = await s.request('GET', `transit/keys/${keyId}`);
    expect(transit.body.data.auto_rotate_period).toBe(90 * 86_400);
  });

  it('decrypts blobs of older versions after a rotation through transit', async () => {
    const keyId = await newKey();
    const old = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('v1') }));
    expect((await s.request('POST', `transit/keys/${keyId}/rotate`)).status).toBe(200);
    const fresh = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('v2') }));
    const blob = Buffer.from(fresh.CiphertextBlob as Uint8Array);
    expect(blob.readUInt32BE(2 + (blob[1] as number))).toBe(2);
    const back = await kms.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }));
    expect(text(back.Plaintext)).toBe('v1');
  });

  it('disables, enables, schedules and cancels deletion with AWS states', async () => {
    const keyId = await newKey();
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    const disabled = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(disabled.KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    const scheduled = await kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
    );
    expect(scheduled).toMatchObject({ KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    const pending = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(pending.KeyMetadata?.KeyState).toBe('PendingDeletion');
    expect(pending.KeyMetadata?.DeletionDate).toEqual(scheduled.DeletionDate);
    expect((await s.request('GET', `transit/keys/${keyId}`)).body.data.state).toBe(
      'pending_deletion',
    );
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    const cancelled = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(cancelled.KeyMetadata?.KeyState).toBe('Disabled');
    expect(cancelled.KeyMetadata).not.toHaveProperty('DeletionDate');
    expect(await failure(kms.send(new CancelKeyDeletionCommand({ KeyId: keyId })))).toEqual({
      name: 'KMSInvalidStateException',
      status: 400,
    });
  });

  it('signs and verifies with ECC_NIST_P256 (a DER signature that verifies offline)', async () => {
    const keyId = await newKey({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const message = bytes('release 1.2.3');
    const signed = await kms.send(
      new SignCommand({
        KeyId: keyId,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    const verified = await kms.send(
      new VerifyCommand({
        KeyId: keyId,
        Message: message,
        MessageType: 'RAW',
        Signature: signed.Signature,
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    expect(verified.SignatureValid).toBe(true);
    const publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    expect(publicKey).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const spki = createPublicKey({
      key: Buffer.from(publicKey.PublicKey as Uint8Array),
      format: 'der',
      type: 'spki',
    });
    expect(verify('sha256', message, spki, Buffer.from(signed.Signature as Uint8Array))).toBe(true);
    expect(
      await failure(
        kms.send(
          new VerifyCommand({
            KeyId: keyId,
            Message: bytes('release 1.2.4'),
            MessageType: 'RAW',
            Signature: signed.Signature,
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        ),
      ),
    ).toEqual({ name: 'KMSInvalidSignatureException', status: 400 });
    expect(
      await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: message }))),
    ).toEqual({ name: 'InvalidKeyUsageException', status: 400 });
  });

  it('signs and verifies with an Ed25519 transit key', async () => {
    const keyId = await newKey({ KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' });
    const message = bytes('tag v2');
    const signed = await kms.send(
      new SignCommand({
        KeyId: keyId,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: 'ED25519_SHA_512',
      }),
    );
    const verified = await kms.send(
      new VerifyCommand({
        KeyId: keyId,
        Message: message,
        MessageType: 'RAW',
        Signature: signed.Signature,
        SigningAlgorithm: 'ED25519_SHA_512',
      }),
    );
    expect(verified.SignatureValid).toBe(true);
    const publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const spki = createPublicKey({
      key: Buffer.from(publicKey.PublicKey as Uint8Array),
      format: 'der',
      type: 'spki',
    });
    expect(verify(null, message, spki, Buffer.from(signed.Signature as Uint8Array))).toBe(true);
    expect(
      await failure(
        kms.send(
          new SignCommand({
            KeyId: keyId,
            Message: message,
            MessageType: 'RAW',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        ),
      ),
    ).toEqual({ name: 'InvalidKeyUsageException', status: 400 });
    expect(await failure(kms.send(new GetPublicKeyCommand({ KeyId: await newKey() })))).toEqual({
      name: 'UnsupportedOperationException',
      status: 400,
    });
  });
});
