import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

describe('custos scan --cache, where it cannot write', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-scan-cache-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.runIf(existsSync('/proc/self'))(
    'fails (2) naming the cache location it cannot create, rather than spinning',
    async () => {
      await writeFile(join(dir, 'app.env'), 'A=1\n');
      const place = '/proc/custos-none/sub/scan.json';
      const result = await custos(['scan', '--cache-location', place], { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(place);
    },
  );
});
