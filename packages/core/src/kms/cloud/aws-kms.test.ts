import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { awsEncryptionContext, createAwsKms } from './aws-kms.js';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../../../dist', import.meta.url));

describe('createAwsKms() options and form (the KMS round trips: server test/compat/aws-kms-fields)', () => {
  const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('refuses a bad region, account or key reference, and an ARN of another region or account', () => {
    const bad = (options: Parameters<typeof createAwsKms>[0], message: RegExp) =>
      expect(() => createAwsKms(options)).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringMatching(message),
        }),
      );
    bad({ keyId: 'alias/x', region: 'Europe' }, /region must be/);
    bad({ keyId: 'alias/x', region: 'eu-west-1', accountId: '12' }, /accountId must be/);
    for (const keyId of ['', 'alias/', 'arn:aws:kms:eu-west-1:1:key/x', 'x y', 'a:b']) {
      bad({ keyId, region: 'eu-west-1' }, /keyId must be/);
    }
    bad({ keyId: arn, region: 'us-east-1' }, /region eu-west-1, not us-east-1/);
    bad({ keyId: arn, region: 'eu-west-1', accountId: '444455556666' }, /account 111122223333/);
    expect(createAwsKms({ keyId: arn, region: 'eu-west-1', accountId: '111122223333' })).toBeTypeOf(
      'object',
    );
  });

  it('reads key and version from a wrapped key without a call; rejects anything else', () => {
    const kms = createAwsKms({ keyId: 'alias/fields', region: 'eu-west-1' });
    expect(kms.describeWrappedKey(`aws-kms:v1:${arn}:AQIDBA`)).toEqual({
      keyId: arn,
      keyVersion: 1,
    });
    for (const bad of [`aws-kms:v1:${arn}:`, `aws-kms:v1:${arn}:a+b`, `aws-kms:${arn}:AQ`, 'AQ']) {
      expect(() => kms.describeWrappedKey(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_MALFORMED_CIPHERTEXT' }),
      );
    }
  });

  it('binds purpose, and the tenant when there is one, as the encryption context', () => {
    expect(awsEncryptionContext({})).toEqual({ purpose: 'field-data-key' });
    expect(awsEncryptionContext({ tenantId: 7 })).toEqual({
      purpose: 'field-data-key',
      tenant: '7',
    });
    // A backup's file key (the backup format's KMS stanza): another purpose, no tenant.
    const file = 'ab'.repeat(16);
    expect(awsEncryptionContext({ backupFileId: file })).toEqual({
      purpose: 'custos-backup',
      file,
    });
    expect(() => awsEncryptionContext({ backupFileId: file, tenantId: 7 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    // A server's root key under the awskms seal: its own purpose, bound to the cluster.
    const cluster = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(awsEncryptionContext({ sealClusterId: cluster })).toEqual({
      purpose: 'custos-seal',
      cluster,
    });
    for (const bad of [
      { sealClusterId: cluster.toUpperCase() },
      { sealClusterId: `${cluster}/x` },
      { sealClusterId: '' },
      { sealClusterId: cluster, tenantId: 7 },
      { sealClusterId: cluster, backupFileId: file },
    ]) {
      expect(() => awsEncryptionContext(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('without @aws-sdk/client-kms installed, fails each use with ERR_KMS_PROVIDER_MISSING', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-no-kms-sdk-'));
    try {
      await cp(dist, join(dir, 'dist'), { recursive: true });
      await writeFile(join(dir, 'package.json'), '{"type":"module"}');
      const script = [
        `const { createAwsKms } = await import(${JSON.stringify(join(dir, 'dist/kms/cloud/aws-kms.js'))});`,
        "const kms = createAwsKms({ keyId: 'alias/fields', region: 'eu-west-1' });",
        'for (const attempt of [1, 2]) {',
        '  try { await kms.generateDataKey({}); console.log("generated"); }',
        '  catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })); }',
        '}',
      ].join('\n');
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
      });
      const missing = {
        code: 'ERR_KMS_PROVIDER_MISSING',
        message: expect.stringContaining('npm install @aws-sdk/client-kms'),
      };
      expect(
        stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ).toEqual([missing, missing]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
