import {
  buildClient,
  CommitmentPolicy,
  KmsKeyringNode,
  type KmsNodeClientSupplier,
} from '@aws-crypto/client-node';
import { CreateKeyCommand, KMS } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey } from '../../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';

// The AWS Encryption SDK for JavaScript, unchanged: its KMS keyring takes the KMS client it
// is given (`clientProvider`): the official (aggregated) client, only its endpoint custos.
const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

describe.each(await storageKinds())(
  'the AWS Encryption SDK with a custos-backed KMS keyring on %s',
  (kind) => {
    let s: TestServer;
    let kms: KMS;
    beforeAll(async () => {
      s = await startTestServer(kind);
      await s.policy('kms-all', { 'transit/*': ['create', 'read', 'update', 'list'] });
      kms = new KMS({
        endpoint: s.url,
        region: 'us-east-1',
        credentials: await accessKey(s, ['kms-all']),
        maxAttempts: 1,
      });
    });
    afterAll(async () => {
      kms?.destroy();
      await s.close();
    });

    it('encrypts a message under two custos keys and decrypts it with either', async () => {
      const arnOf = async () =>
        (await kms.send(new CreateKeyCommand({}))).KeyMetadata?.Arn as string;
      const [first, second] = [await arnOf(), await arnOf()];
      // The SDK's client as is; the cast is for types only: the Encryption SDK's declared
      // interface does not allow the optional members the client's outputs declare under this
      // repository's exactOptionalPropertyTypes.
      const clientProvider = (() => kms) as unknown as KmsNodeClientSupplier;
      const keyring = new KmsKeyringNode({
        generatorKeyId: first,
        keyIds: [second],
        clientProvider,
      });
      const message = Buffer.from('a message for the encryption SDK');
      const context = { purpose: 'test', tenant: 't1' };
      const { result } = await encrypt(keyring, message, { encryptionContext: context });
      expect(result.includes(message)).toBe(false);
      for (const arn of [first, second]) {
        const only = new KmsKeyringNode({ keyIds: [arn], clientProvider });
        const { plaintext, messageHeader } = await decrypt(only, result);
        expect(plaintext.equals(message)).toBe(true);
        expect(messageHeader.encryptionContext).toMatchObject(context);
        expect(messageHeader.encryptedDataKeys.map((k) => k.providerInfo)).toEqual([first, second]);
      }
    });
  },
);
