import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openScanCache } from './scan-cache.js';

const isRoot = process.getuid?.() === 0;

describe('saving the scan cache', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-scan-cache-save-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails with ERR_SCAN_CACHE naming the place, never spinning, when it cannot be written', async () => {
    await writeFile(join(dir, 'app.env'), 'A=1\n');
    const places = [
      join(dir, 'app.env', 'sub', 'cache.json'), // under a file
      ...(existsSync('/proc/self') ? ['/proc/custos-none/sub/cache.json'] : []), // ENOENT
    ];
    if (!isRoot) {
      await mkdir(join(dir, 'read-only'), { mode: 0o500 });
      places.push(join(dir, 'read-only', 'a', 'b', 'cache.json'));
    }
    const keyFile = join(dir, 'key', 'scan-cache.key');
    for (const place of places) {
      const cache = await openScanCache(place, { keyFile });
      await expect(cache.save()).rejects.toMatchObject({
        code: 'ERR_SCAN_CACHE',
        message: expect.stringContaining(place),
      });
      // The key's place, likewise.
      const keyed = await openScanCache(join(dir, 'cache.json'), { keyFile: place });
      await expect(keyed.save()).rejects.toMatchObject({
        code: 'ERR_SCAN_CACHE',
        message: expect.stringContaining(place),
      });
    }
  });

  it('makes the missing directories, as many levels as needed', async () => {
    const deep = join(dir, 'a', 'b', 'c', 'cache.json');
    await (await openScanCache(deep, { keyFile: join(dir, 'x', 'y', 'scan-cache.key') })).save();
    expect((await stat(deep)).isFile()).toBe(true);
  });
});
