import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  type CreateKeyCommandInput,
  DecryptCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  type EncryptionAlgorithmSpec,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, failure, kmsClient } from '../../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';

/** A plaintext no test sends twice, so a leak of it is unmistakable. */
const canary = () => Buffer.from(`kms-rsa-canary-${randomBytes(12).toString('hex')}`);

const OAEP_HASH: Record<string, string> = {
  RSAES_OAEP_SHA_1: 'sha1',
  RSAES_OAEP_SHA_256: 'sha256',
};

describe.each(await storageKinds())('KMS API: RSA ENCRYPT_DECRYPT keys on %s', (kind) => {
  let s: TestServer;
  let kms: KMSClient;
  let keyId: string;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.policy('kms-all', {
      'transit/*': ['create', 'read', 'update', 'delete', 'list'],
      'aws/kms/*': ['create', 'read', 'update', 'delete', 'list'],
    });
    await s.policy('kms-encrypt-only', {
      'transit/keys/*': ['read'],
      'transit/encrypt/*': ['update'],
    });
    kms = kmsClient(s, await accessKey(s, ['kms-all']));
    keyId = (await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))?.KeyId as string;
  });
  afterAll(async () => {
    kms?.destroy();
    await s.close();
  });

  async function newKey(input: CreateKeyCommandInput) {
    return (await kms.send(new CreateKeyCommand(input))).KeyMetadata;
  }

  /** The key's public key, as GetPublicKey answers it (DER SubjectPublicKeyInfo). */
  async function publicKeyOf(id: string) {
    const answer = await kms.send(new GetPublicKeyCommand({ KeyId: id }));
    return {
      answer,
      key: createPublicKey({
        key: Buffer.from(answer.PublicKey as Uint8Array),
        format: 'der',
        type: 'spki',
      }),
    };
  }

  /** A ciphertext made here with node:crypto under the key GetPublicKey gave. */
  async function encryptLocally(id: string, algorithm: string, plaintext: Buffer) {
    const { key } = await publicKeyOf(id);
    return publicEncrypt(
      { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[algorithm] },
      plaintext,
    );
  }

  const decrypt = (id: string | undefined, blob: Uint8Array, algorithm: string) =>
    kms.send(
      new DecryptCommand({
        ...(id === undefined ? {} : { KeyId: id }),
        CiphertextBlob: blob,
        EncryptionAlgorithm: algorithm as EncryptionAlgorithmSpec,
      }),
    );

  it('creates RSA_2048 keys for ENCRYPT_DECRYPT: the usage is kept and described', async () => {
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
    expect(described).toMatchObject({
      KeySpec: 'RSA_2048',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'],
    });
    expect(described?.SigningAlgorithms).toBeUndefined();
    expect((await s.request('GET', `transit/keys/${keyId}`)).body.data.type).toBe('rsa-2048');
    const { answer, key } = await publicKeyOf(keyId);
    expect(answer).toMatchObject({
      KeySpec: 'RSA_2048',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'],
    });
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it.each(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'])(
    'decrypts through the API what node:crypto encrypted under GetPublicKey (%s)',
    async (algorithm) => {
      const plaintext = canary();
      const blob = await encryptLocally(keyId, algorithm, plaintext);
      const opened = await decrypt(keyId, blob, algorithm);
      expect(Buffer.from(opened.Plaintext as Uint8Array)).toEqual(plaintext);
      expect(opened.EncryptionAlgorithm).toBe(algorithm);
      expect(opened.KeyId).toMatch(new RegExp(`:key/${keyId}$`));
      // And the API's own Encrypt, as AWS returns it: the bare RSA ciphertext.
      const sealed = await kms.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: plaintext,
          EncryptionAlgorithm: algorithm as EncryptionAlgorithmSpec,
        }),
      );
      expect(sealed.EncryptionAlgorithm).toBe(algorithm);
      expect(sealed.CiphertextBlob?.length).toBe(256);
      const back = await decrypt(keyId, sealed.CiphertextBlob as Uint8Array, algorithm);
      expect(Buffer.from(back.Plaintext as Uint8Array)).toEqual(plaintext);
    },
  );

  it('refuses a ciphertext under another algorithm, altered, or under another key, with one answer', async () => {
    const plaintext = canary();
    const blob = await encryptLocally(keyId, 'RSAES_OAEP_SHA_1', plaintext);
    const other = (await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))
      ?.KeyId as string;
    const altered = Buffer.from(blob);
    altered[17] = (altered[17] as number) ^ 1;
    for (const [id, bytes, algorithm] of [
      [keyId, blob, 'RSAES_OAEP_SHA_256'],
      [keyId, altered, 'RSAES_OAEP_SHA_1'],
      [other, blob, 'RSAES_OAEP_SHA_1'],
      [keyId, blob.subarray(1), 'RSAES_OAEP_SHA_1'],
    ] as const) {
      const refused = decrypt(id, bytes, algorithm);
      expect(await failure(refused)).toEqual({ name: 'InvalidCiphertextException', status: 400 });
    }
    // An RSA ciphertext names no key: KeyId is required.
    expect(await failure(decrypt(undefined, blob, 'RSAES_OAEP_SHA_1'))).toEqual({
      name: 'ValidationException',
      status: 400,
    });
  });

  it('refuses what one RSA-OAEP block cannot hold, and an encryption context, never echoing the plaintext', async () => {
    for (const [algorithm, most] of [
      ['RSAES_OAEP_SHA_256', 190],
      ['RSAES_OAEP_SHA_1', 214],
    ] as const) {
      const fits = randomBytes(most);
      const sealed = await kms.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: fits, EncryptionAlgorithm: algorithm }),
      );
      const back = await decrypt(keyId, sealed.CiphertextBlob as Uint8Array, algorithm);
      expect(Buffer.from(back.Plaintext as Uint8Array)).toEqual(fits);
      const tooLong = Buffer.concat([canary(), randomBytes(most)]);
      const error = await kms
        .send(
          new EncryptCommand({ KeyId: keyId, Plaintext: tooLong, EncryptionAlgorithm: algorithm }),
        )
        .then(
          () => undefined,
          (err: Error) => err,
        );
      expect(error?.name).toBe('ValidationException');
      expect(`${error?.message}${JSON.stringify(error)}`).not.toContain('kms-rsa-canary-');
    }
    expect(
      await failure(
        kms.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: canary(),
            EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
            EncryptionContext: { tenant: 't1' },
          }),
        ),
      ),
    ).toEqual({ name: 'ValidationException', status: 400 });
  });

  it('refuses symmetric-only operations and signing on an RSA encryption key (InvalidKeyUsageException)', async () => {
    const symmetric = (await newKey({}))?.KeyId as string;
    const signing = (await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))
      ?.KeyId as string;
    const invalidUsage = { name: 'InvalidKeyUsageException', status: 400 };
    expect(
      await failure(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }))),
    ).toEqual(invalidUsage);
    expect(
      await failure(
        kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' })),
      ),
    ).toEqual(invalidUsage);
    // SYMMETRIC_DEFAULT (the default) with an RSA key; RSAES with a symmetric or signing key.
    expect(
      await failure(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: canary() }))),
    ).toEqual(invalidUsage);
    for (const id of [symmetric, signing])
      expect(
        await failure(
          kms.send(
            new EncryptCommand({
              KeyId: id,
              Plaintext: canary(),
              EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
            }),
          ),
        ),
      ).toEqual(invalidUsage);
    expect(
      await failure(
        decrypt(
          signing,
          await encryptLocally(signing, 'RSAES_OAEP_SHA_256', canary()),
          'RSAES_OAEP_SHA_256',
        ),
      ),
    ).toEqual(invalidUsage);
    expect(
      await failure(
        kms.send(
          new SignCommand({
            KeyId: keyId,
            Message: canary(),
            MessageType: 'RAW',
            SigningAlgorithm: 'RSASSA_PSS_SHA_256',
          }),
        ),
      ),
    ).toEqual(invalidUsage);
    expect(await failure(kms.send(new EnableKeyRotationCommand({ KeyId: keyId })))).toEqual({
      name: 'UnsupportedOperationException',
      status: 400,
    });
    const blob = await encryptLocally(keyId, 'RSAES_OAEP_SHA_256', canary());
    expect(
      await failure(
        kms.send(
          new ReEncryptCommand({
            CiphertextBlob: blob,
            SourceKeyId: keyId,
            SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
            DestinationKeyId: symmetric,
          }),
        ),
      ),
    ).toEqual({ name: 'UnsupportedOperationException', status: 400 });
  });

  it('decrypts ciphertexts of every version still held after the key rotated through transit', async () => {
    const id = (await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))
      ?.KeyId as string;
    const first = canary();
    const blob1 = await encryptLocally(id, 'RSAES_OAEP_SHA_256', first);
    expect((await s.request('POST', `transit/keys/${id}/rotate`)).status).toBe(200);
    const second = canary();
    const blob2 = await encryptLocally(id, 'RSAES_OAEP_SHA_256', second);
    expect(
      Buffer.from((await decrypt(id, blob1, 'RSAES_OAEP_SHA_256')).Plaintext as Uint8Array),
    ).toEqual(first);
    expect(
      Buffer.from((await decrypt(id, blob2, 'RSAES_OAEP_SHA_256')).Plaintext as Uint8Array),
    ).toEqual(second);
    // Below min_decryption_version, an old ciphertext no longer opens.
    expect(
      (
        await s.request('POST', `transit/keys/${id}/config`, {
          body: { min_decryption_version: 2 },
        })
      ).status,
    ).toBeLessThan(300);
    expect(await failure(decrypt(id, blob1, 'RSAES_OAEP_SHA_256'))).toEqual({
      name: 'InvalidCiphertextException',
      status: 400,
    });
  });

  it('creates RSA_3072 and RSA_4096 encryption keys whose public keys encrypt for the API', async () => {
    for (const [spec, bits] of [
      ['RSA_3072', 3072],
      ['RSA_4096', 4096],
    ] as const) {
      const id = (await newKey({ KeySpec: spec, KeyUsage: 'ENCRYPT_DECRYPT' }))?.KeyId as string;
      const { key } = await publicKeyOf(id);
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(bits);
      const plaintext = canary();
      const blob = await encryptLocally(id, 'RSAES_OAEP_SHA_256', plaintext);
      expect(
        Buffer.from((await decrypt(id, blob, 'RSAES_OAEP_SHA_256')).Plaintext as Uint8Array),
      ).toEqual(plaintext);
    }
  });

  it('keeps the usage through a scheduled and cancelled deletion', async () => {
    const id = (await newKey({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))
      ?.KeyId as string;
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: 7 }));
    await kms.send(new CancelKeyDeletionCommand({ KeyId: id }));
    await kms.send(new EnableKeyCommand({ KeyId: id }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata?.KeyUsage).toBe(
      'ENCRYPT_DECRYPT',
    );
    const plaintext = canary();
    const blob = await encryptLocally(id, 'RSAES_OAEP_SHA_1', plaintext);
    expect(
      Buffer.from((await decrypt(id, blob, 'RSAES_OAEP_SHA_1')).Plaintext as Uint8Array),
    ).toEqual(plaintext);
  });

  it('judges Decrypt on transit/decrypt/<KeyId>: a key that may only encrypt is denied', async () => {
    const limited = kmsClient(s, await accessKey(s, ['kms-encrypt-only']));
    try {
      const plaintext = canary();
      const sealed = await limited.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: plaintext,
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
        }),
      );
      expect(
        await failure(
          limited.send(
            new DecryptCommand({
              KeyId: keyId,
              CiphertextBlob: sealed.CiphertextBlob,
              EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
            }),
          ),
        ),
      ).toEqual({ name: 'AccessDeniedException', status: 400 });
    } finally {
      limited.destroy();
    }
  });
});
