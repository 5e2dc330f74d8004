import { constants, createPublicKey, verify } from 'node:crypto';
import {
  CreateKeyCommand,
  type CreateKeyCommandInput,
  EncryptCommand,
  GetPublicKeyCommand,
  type KMSClient,
  SignCommand,
  type SigningAlgorithmSpec,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, failure, kmsClient } from '../../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';

const bytes = (value: string) => Buffer.from(value, 'utf8');

/** How node:crypto checks each KMS signing algorithm (AWS's PSS salt is the hash's length). */
const OFFLINE: Record<string, { hash: string; padding?: number; saltLength?: number }> = {
  ECDSA_SHA_384: { hash: 'sha384' },
  ECDSA_SHA_512: { hash: 'sha512' },
  RSASSA_PSS_SHA_256: { hash: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  RSASSA_PSS_SHA_384: { hash: 'sha384', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
  RSASSA_PSS_SHA_512: { hash: 'sha512', padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
  RSASSA_PKCS1_V1_5_SHA_256: { hash: 'sha256', padding: constants.RSA_PKCS1_PADDING },
  RSASSA_PKCS1_V1_5_SHA_384: { hash: 'sha384', padding: constants.RSA_PKCS1_PADDING },
  RSASSA_PKCS1_V1_5_SHA_512: { hash: 'sha512', padding: constants.RSA_PKCS1_PADDING },
};

describe.each(await storageKinds())('KMS API on RSA and P-384/P-521 transit keys on %s', (kind) => {
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

  const newKey = async (input: CreateKeyCommandInput) =>
    (await kms.send(new CreateKeyCommand(input))).KeyMetadata;

  /** Signs with KMS, verifies with KMS and offline with GetPublicKey's key. */
  async function signsAndVerifies(keyId: string, algorithm: SigningAlgorithmSpec) {
    const message = bytes(`release ${algorithm}`);
    const signed = await kms.send(
      new SignCommand({
        KeyId: keyId,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: algorithm,
      }),
    );
    expect(signed.SigningAlgorithm).toBe(algorithm);
    const signature = Buffer.from(signed.Signature as Uint8Array);
    const verified = await kms.send(
      new VerifyCommand({
        KeyId: keyId,
        Message: message,
        MessageType: 'RAW',
        Signature: signature,
        SigningAlgorithm: algorithm,
      }),
    );
    expect(verified.SignatureValid).toBe(true);
    const publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const key = createPublicKey({
      key: Buffer.from(publicKey.PublicKey as Uint8Array),
      format: 'der',
      type: 'spki',
    });
    const offline = OFFLINE[algorithm] as (typeof OFFLINE)[string];
    const input = {
      key,
      ...(offline.padding === undefined ? {} : { padding: offline.padding }),
      ...(offline.saltLength === undefined ? {} : { saltLength: offline.saltLength }),
    };
    expect(verify(offline.hash, message, input, signature)).toBe(true);
    expect(verify(offline.hash, bytes('another release'), input, signature)).toBe(false);
    expect(
      await failure(
        kms.send(
          new VerifyCommand({
            KeyId: keyId,
            Message: bytes('another release'),
            MessageType: 'RAW',
            Signature: signature,
            SigningAlgorithm: algorithm,
          }),
        ),
      ),
    ).toEqual({ name: 'KMSInvalidSignatureException', status: 400 });
  }

  it.each([
    ['ECC_NIST_P384', 'ecdsa-p384', 'ECDSA_SHA_384'],
    ['ECC_NIST_P521', 'ecdsa-p521', 'ECDSA_SHA_512'],
  ] as const)('creates %s keys (transit %s) that sign with %s', async (spec, type, algorithm) => {
    const meta = await newKey({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' });
    expect(meta).toMatchObject({
      KeySpec: spec,
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: [algorithm],
    });
    expect((await s.request('GET', `transit/keys/${meta?.KeyId}`)).body.data.type).toBe(type);
    await signsAndVerifies(meta?.KeyId as string, algorithm);
    // Another hash than the curve's is refused, as AWS does.
    expect(
      await failure(
        kms.send(
          new SignCommand({
            KeyId: meta?.KeyId,
            Message: bytes('x'),
            MessageType: 'RAW',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        ),
      ),
    ).toEqual({ name: 'InvalidKeyUsageException', status: 400 });
  });

  it('creates RSA_2048 signing keys that sign with PSS and PKCS#1 v1.5 at each hash', async () => {
    const meta = await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect(meta).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect(meta?.SigningAlgorithms).toEqual([
      'RSASSA_PSS_SHA_256',
      'RSASSA_PSS_SHA_384',
      'RSASSA_PSS_SHA_512',
      'RSASSA_PKCS1_V1_5_SHA_256',
      'RSASSA_PKCS1_V1_5_SHA_384',
      'RSASSA_PKCS1_V1_5_SHA_512',
    ]);
    expect((await s.request('GET', `transit/keys/${meta?.KeyId}`)).body.data.type).toBe('rsa-2048');
    for (const algorithm of meta?.SigningAlgorithms ?? [])
      await signsAndVerifies(meta?.KeyId as string, algorithm);
    expect(
      await failure(kms.send(new EncryptCommand({ KeyId: meta?.KeyId, Plaintext: bytes('x') }))),
    ).toEqual({ name: 'InvalidKeyUsageException', status: 400 });
    const publicKey = await kms.send(new GetPublicKeyCommand({ KeyId: meta?.KeyId }));
    expect(publicKey).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
  });

  it('creates RSA_3072 keys; refuses what transit cannot serve with a clear error', async () => {
    expect(await newKey({ KeySpec: 'RSA_3072', KeyUsage: 'SIGN_VERIFY' })).toMatchObject({
      KeySpec: 'RSA_3072',
    });
    const refused: CreateKeyCommandInput[] = [
      { KeySpec: 'ECC_NIST_P384', KeyUsage: 'ENCRYPT_DECRYPT' },
      { KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'SIGN_VERIFY' },
      // Not a KeySpec of AWS's either.
      { KeySpec: 'RSA_1024' as CreateKeyCommandInput['KeySpec'], KeyUsage: 'SIGN_VERIFY' },
      { KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' },
    ];
    for (const input of refused)
      expect(await failure(kms.send(new CreateKeyCommand(input)))).toMatchObject({ status: 400 });
  });
});
