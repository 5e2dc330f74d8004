import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCachingKms, createFieldCipher } from '@custos/core/fields';
import {
  createAwsKms,
  createTransitClient,
  LocalKms,
  localKmsDataKeys,
  transitDataKeys,
} from '@custos/core/kms';
import { startServerProcess } from '../lib/http-load.js';
import { compareAsync } from '../lib/measure-async.js';
import type { Table } from '../lib/report.js';

const TOKEN = 'bench-root';

/**
 * Field encrypt ops/s in KMS mode, the data keys wrapped by a transit key on a `custos server
 * --dev` over loopback (each provider's round trip stands in as one HTTP call): a KMS call per
 * value, against `createCachingKms` in front of the same KMS, and the field cipher's own cache.
 * A second table puts the AWS KMS provider (the official SDK against the server's KMS API, SigV4
 * and all) beside a LocalKms in process: a call per value, `createCachingKms` (the AWS one) and
 * the cipher's own cache.
 */
export async function fieldsKmsTables(): Promise<{ tables: Table[]; notes: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'custos-bench-kms-'));
  const server = await startServerProcess([
    '--dev-root-token-id',
    TOKEN,
    '--storage',
    join(dir, 'custos.db'),
    '--audit-file',
    join(dir, 'audit.log'),
  ]);
  try {
    const client = createTransitClient({ address: server.url, auth: { token: TOKEN } });
    await fetch(`${server.url}/v1/transit/keys/fields`, {
      method: 'POST',
      headers: { 'x-vault-token': TOKEN },
      body: '{}',
    });
    const kms = transitDataKeys(client, 'fields');
    const context = { table: 'patients', column: 'ssn', rowId: 421, tenantId: 7 };
    const value = 'x'.repeat(32);
    const perValue = createFieldCipher({ kms, dataKeyCache: { maxUses: 1 } });
    const cachedKms = createFieldCipher({
      kms: createCachingKms(kms, { maxUses: 10_000, maxAgeSeconds: 300 }),
      dataKeyCache: { maxUses: 1 },
    });
    const builtIn = createFieldCipher({ kms });
    for (const fc of [perValue, cachedKms, builtIn]) {
      if ((await fc.decrypt(await fc.encrypt(value, context), context)) !== value) {
        throw new Error('round trip failed');
      }
    }
    const rows = await compareAsync([
      { name: 'no cache (a KMS call per value)', run: () => perValue.encrypt(value, context) },
      {
        name: 'createCachingKms (10,000 uses, 300 s)',
        run: () => cachedKms.encrypt(value, context),
      },
      {
        name: "field cipher's own data-key cache (default)",
        run: () => builtIn.encrypt(value, context),
      },
    ]);
    const providers = await awsAgainstLocal(server.url, value, context);
    return {
      tables: [
        providers,
        {
          title: 'field encrypt in KMS mode, 32-byte string, transit over loopback',
          baseline: 'no cache (a KMS call per value)',
          rows,
          goals: [
            {
              description: 'createCachingKms ≥ 10× a KMS call per value',
              candidate: 'createCachingKms (10,000 uses, 300 s)',
              against: 'no cache (a KMS call per value)',
              atLeast: 10,
            },
          ],
        },
      ],
      notes: [
        'KMS mode: data keys wrapped by `transit/encrypt` on a `custos server --dev` (SQLite) over',
        'loopback, one caller awaiting each value. "No cache" sets the field cipher to one use per',
        'data key, so every value costs a KMS round trip, as a cloud KMS would without caching;',
        '`createCachingKms` answers those calls from memory for 10,000 uses or 300 s.',
        'The provider table: `createAwsKms` (@aws-sdk/client-kms, SigV4-signed GenerateDataKey to the',
        "same server's KMS API over loopback), bare, behind `createCachingKms` and with the field",
        "cipher's cache, against `localKmsDataKeys` on a LocalKms in process.",
      ].join('\n'),
    };
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Field encrypt through the AWS KMS provider (the server's KMS API) and a LocalKms in process. */
async function awsAgainstLocal(
  url: string,
  value: string,
  context: { table: string; column: string; rowId: number; tenantId: number },
): Promise<Table> {
  const root = { 'x-vault-token': TOKEN, 'content-type': 'application/json' };
  const policy = [
    'path "transit/*" { capabilities = ["create", "read", "update"] }',
    'path "aws/kms/*" { capabilities = ["read"] }',
  ].join('\n');
  await fetch(`${url}/v1/sys/policies/acl/bench-kms`, {
    method: 'POST',
    headers: root,
    body: JSON.stringify({ policy }),
  });
  const issued = (await (
    await fetch(`${url}/v1/aws/access-key`, {
      method: 'POST',
      headers: root,
      body: JSON.stringify({ policies: ['bench-kms'] }),
    })
  ).json()) as { data: { access_key_id: string; secret_access_key: string } };
  const aws = createAwsKms({
    keyId: 'fields',
    region: 'us-east-1',
    endpoint: url,
    clientConfig: {
      credentials: {
        accessKeyId: issued.data.access_key_id,
        secretAccessKey: issued.data.secret_access_key,
      },
      maxAttempts: 1,
    },
  });
  const local = new LocalKms();
  local.createKey('fields');
  const localKms = localKmsDataKeys(local, 'fields');
  const ciphers = {
    awsPerValue: createFieldCipher({ kms: aws, dataKeyCache: { maxUses: 1 } }),
    awsCachingKms: createFieldCipher({
      kms: createCachingKms(aws, { maxUses: 10_000, maxAgeSeconds: 300 }),
      dataKeyCache: { maxUses: 1 },
    }),
    awsCached: createFieldCipher({ kms: aws }),
    localPerValue: createFieldCipher({ kms: localKms, dataKeyCache: { maxUses: 1 } }),
    localCached: createFieldCipher({ kms: localKms }),
  };
  try {
    for (const fc of Object.values(ciphers)) {
      if ((await fc.decrypt(await fc.encrypt(value, context), context)) !== value) {
        throw new Error('round trip failed');
      }
    }
    const rows = await compareAsync([
      {
        name: 'aws provider, GenerateDataKey per value',
        run: () => ciphers.awsPerValue.encrypt(value, context),
      },
      {
        name: 'aws provider, createCachingKms (10,000 uses, 300 s)',
        run: () => ciphers.awsCachingKms.encrypt(value, context),
      },
      {
        name: "aws provider, field cipher's cache (default)",
        run: () => ciphers.awsCached.encrypt(value, context),
      },
      {
        name: 'LocalKms in process, a data key per value',
        run: () => ciphers.localPerValue.encrypt(value, context),
      },
      {
        name: "LocalKms in process, field cipher's cache (default)",
        run: () => ciphers.localCached.encrypt(value, context),
      },
    ]);
    return {
      title: 'field encrypt by provider: AWS KMS API (custos server, loopback) vs LocalKms',
      baseline: 'aws provider, GenerateDataKey per value',
      rows,
      goals: [
        {
          description: 'createCachingKms brings the aws provider ≥ 10× a call per value',
          candidate: 'aws provider, createCachingKms (10,000 uses, 300 s)',
          against: 'aws provider, GenerateDataKey per value',
          atLeast: 10,
        },
        {
          description: "the field cipher's cache brings the aws provider ≥ 10× a call per value",
          candidate: "aws provider, field cipher's cache (default)",
          against: 'aws provider, GenerateDataKey per value',
          atLeast: 10,
        },
      ],
    };
  } finally {
    await aws.close();
  }
}
