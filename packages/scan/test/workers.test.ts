import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openScanCache, scanPaths } from '@custos/scan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomString } from './generate.js';

// Runs the built package, where the worker script exists.
describe('scanPaths across worker threads', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'custos-scan-workers-'));
    await mkdir(join(root, 'src'));
    for (let i = 0; i < 40; i++) {
      const secret = i % 10 === 0 ? `KEY=sk_live_${randomString(24)}\n` : '';
      await writeFile(join(root, 'src', `f${String(i).padStart(2, '0')}.env`), `${secret}A=${i}\n`);
    }
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds the same as one thread, with baseline and allowlist carried over', async () => {
    const single = await scanPaths(['.'], { root, workers: 0 });
    const progress: number[] = [];
    const pooled = await scanPaths(['.'], {
      root,
      workers: 2,
      onProgress: (p) => progress.push(p.filesDone),
    });
    expect(single.findings.map((f) => f.file)).toEqual([
      'src/f00.env',
      'src/f10.env',
      'src/f20.env',
      'src/f30.env',
    ]);
    expect(single.workers).toBe(0);
    expect(pooled).toEqual({ ...single, workers: 2 });
    expect(progress.at(-1)).toBe(40);
    const [first] = single.findings;
    const filtered = await scanPaths(['.'], {
      root,
      workers: 2,
      baseline: new Set([first?.fingerprint ?? '']),
      allowlist: { paths: ['src/f10.env'] },
    });
    expect(filtered.findings.map((f) => f.file)).toEqual(['src/f20.env', 'src/f30.env']);
  });

  it('use the scan cache alike: a second run takes every file from it', async () => {
    const cachePath = join(root, '..', `${root.split('/').at(-1)}-cache.json`);
    try {
      const scan = async () => {
        const cache = await openScanCache(cachePath);
        const report = await scanPaths(['.'], { root, workers: 2, cache });
        await cache.save();
        return report;
      };
      const first = await scan();
      const second = await scan();
      expect(first.cachedFiles).toBe(0);
      expect(second.cachedFiles).toBe(40);
      expect(second).toEqual({ ...first, cachedFiles: 40 });
    } finally {
      await rm(cachePath, { force: true });
    }
  });
});
