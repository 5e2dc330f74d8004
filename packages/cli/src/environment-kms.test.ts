import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKms } from '@custos/core/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEnvironmentKms } from './environment-kms.js';

describe('openEnvironmentKms (--kms-env of reencrypt and backup)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-env-kms-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('KMS_PROVIDER=local: a version that would rotate only in memory wraps nothing (a backup key would be lost)', async () => {
    const file = join(dir, 'kms.json');
    const app = await LocalKms.open(file);
    app.createKey('backups', { rotateAfterEncryptions: 1 });
    await app.save();
    const saved = await readFile(file, 'utf8');
    const env = { KMS_PROVIDER: 'local', LOCAL_KMS_FILE: file, KMS_KEY_NAME: 'backups' };
    const opened = await openEnvironmentKms(env);
    try {
      const fileId = '0'.repeat(32);
      const first = await opened.kms.generateDataKey({ backupFileId: fileId });
      await expect(opened.kms.generateDataKey({ backupFileId: fileId })).rejects.toMatchObject({
        code: 'ERR_KEY_EXHAUSTED',
      });
      expect(await readFile(file, 'utf8')).toBe(saved);
      expect(await opened.kms.unwrapDataKey(first.wrapped, { backupFileId: fileId })).toHaveLength(
        32,
      );
    } finally {
      await opened.close();
    }
  });

  it('names a missing variable', async () => {
    await expect(openEnvironmentKms({ KMS_PROVIDER: 'local' })).rejects.toMatchObject({
      code: 'ERR_KMS_CONFIG',
      message: expect.stringMatching(/LOCAL_KMS_FILE/),
    });
  });
});
