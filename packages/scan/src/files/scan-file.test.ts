import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanFile } from './scan-file.js';

describe('scanFile on a file replaced after it was listed', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-scan-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses what is no longer a regular file without blocking: a FIFO, a directory, a device', async () => {
    const fifo = join(dir, 'app.env');
    execFileSync('mkfifo', [fifo]);
    for (const absolute of [fifo, dir, '/dev/zero']) {
      // A FIFO nobody writes would block the open and the read for ever; /dev/zero never ends.
      expect(await scanFile({ absolute, relative: 'app.env' }, {})).toEqual({
        findings: [],
        bytes: 0,
        skipped: 'unreadable',
        error: 'ENOTREGULAR',
      });
    }
  });

  it('says why a file could not be read', async () => {
    const missing = join(dir, 'gone.env');
    expect(await scanFile({ absolute: missing, relative: 'gone.env' }, {})).toMatchObject({
      skipped: 'unreadable',
      error: 'ENOENT',
    });
    await writeFile(join(dir, 'here.env'), 'A=1\n');
    expect(await scanFile({ absolute: join(dir, 'here.env'), relative: 'here.env' }, {})).toEqual({
      findings: [],
      bytes: 4,
    });
  });
});
