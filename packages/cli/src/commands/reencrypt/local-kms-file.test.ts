import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalKms } from '@custos/core/kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalKmsDataKeys } from './local-kms-file.js';

describe('openLocalKmsDataKeys', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-kms-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a data key under a version that rotated only in memory, and never writes the file', async () => {
    const file = join(dir, 'kms.json');
    const app = await LocalKms.open(file);
    // Due for rotation after one more encryption: the command's second data key rotates it.
    app.createKey('phi', { rotateAfterEncryptions: 1 });
    await app.save();
    const saved = await readFile(file, 'utf8');
    const keys = await openLocalKmsDataKeys(file, 'phi');
    const first = await keys.generateDataKey({ tenantId: 'a' });
    expect(keys.describeWrappedKey(first.wrapped)).toMatchObject({ keyVersion: 1 });
    await expect(keys.generateDataKey({ tenantId: 'b' })).rejects.toMatchObject({
      code: 'ERR_KEY_EXHAUSTED',
      message: expect.stringMatching(/due for rotation.*rotate it where the file is written/),
    });
    expect(await readFile(file, 'utf8')).toBe(saved);
    // Unwrapping keeps working: the versions the file holds are all there.
    expect(Buffer.from(await keys.unwrapDataKey(first.wrapped, { tenantId: 'a' }))).toHaveLength(
      32,
    );
  });
});
