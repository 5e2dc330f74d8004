import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fingerprintSecret,
  listFiles,
  openScanCache,
  scanGitHistory,
  scanPaths,
} from '@custos/scan';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomString } from './generate.js';
import { gitIn } from './git-repo.js';

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
        const cache = await openScanCache(cachePath, { keyFile: `${cachePath}.key` });
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
      await rm(`${cachePath}.key`, { force: true });
    }
  });
});

describe.runIf(process.platform === 'linux')(
  'a worker thread given a name that is not UTF-8',
  () => {
    // The built worker script, run alone (scanPaths' calling thread could claim the file first).
    const worker = new URL('../dist/files/scan-worker.js', import.meta.url);

    it('reads the file by its bytes and reports it by its readable name', async () => {
      const pool = (await import(
        new URL('../dist/files/thread-pool.js', import.meta.url).href
      )) as typeof import('../src/files/thread-pool.js');
      const root = await mkdtemp(join(tmpdir(), 'custos-scan-worker-bytes-'));
      try {
        const secret = `sk_live_${randomString(24)}`;
        await writeFile(Buffer.from(`${root}/caf\xe9.env`, 'latin1'), `KEY=${secret}\n`);
        const files = await listFiles(['.'], { root });
        const replies: unknown[] = [];
        await pool.runJob(
          worker,
          { files, next: new SharedArrayBuffer(4), options: {} },
          (reply: { type: string }) => replies.push(reply),
        );
        expect(replies).toMatchObject([
          {
            type: 'file',
            file: 'caf\\xe9.env',
            result: {
              findings: [{ file: 'caf\\xe9.env', fingerprint: fingerprintSecret(secret) }],
            },
          },
        ]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });
  },
);

describe('scanPaths choosing its worker threads', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'custos-scan-auto-workers-'));
    // Two large files: a tree of few files may still be worth sharing between threads.
    const line = `const value = ${JSON.stringify(randomString(60))};\n`;
    for (const name of ['a.ts', 'b.ts']) {
      await writeFile(join(root, name), line.repeat(Math.ceil((4.5 * 1024 * 1024) / line.length)));
    }
    await writeFile(join(root, 'small.ts'), line);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('shares two files of 8 MB in all with one worker per other core, and a small tree with none', async () => {
    const large = await scanPaths(['a.ts', 'b.ts'], { root, workers: 'auto' });
    expect(large.workers).toBe(Math.min(availableParallelism(), 8) - 1);
    const small = await scanPaths(['small.ts'], { root, workers: 'auto' });
    expect(small.workers).toBe(0);
    expect(large.findings).toEqual([]);
  });
});

describe.runIf(requireTool('git'))('scanGitHistory across worker threads', () => {
  let repo: string;
  const git = (...args: string[]) => gitIn(repo, args);
  const commits: string[] = [];
  const early = `sk_live_${randomString(24)}`;

  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'custos-scan-history-workers-'));
    git('init', '-q', '-b', 'main');
    // 80 commits of one new file each; a secret in every tenth. The early secret is introduced
    // in the fourth commit and copied into another file in the seventieth: whichever thread
    // scans which blob, it is reported once, at the fourth.
    for (let i = 0; i < 80; i++) {
      const secret = i % 10 === 0 ? `KEY=sk_live_${randomString(24)}\n` : '';
      const copy = i === 3 || i === 70 ? `EARLY=${early}\n` : '';
      await writeFile(join(repo, `f${String(i).padStart(2, '0')}.env`), `${secret}${copy}A=${i}\n`);
      git('add', '-A');
      git(
        'commit',
        '-q',
        '-m',
        `commit ${i}`,
        '--date',
        `2026-01-01T00:${String(i).padStart(2, '0')}:00Z`,
      );
    }
    commits.push(...git('rev-list', '--reverse', 'HEAD').split('\n'));
    // 160 git processes: far longer than the default hook time when both cores are busy.
  }, 120_000);
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('finds the same as one thread, each secret at the commit that first held it', async () => {
    const single = await scanGitHistory({ repository: repo, workers: 0 });
    const progress: number[] = [];
    const pooled = await scanGitHistory({
      repository: repo,
      workers: 2,
      onProgress: (p) => progress.push(p.blobsDone),
    });
    expect(single.workers).toBe(0);
    expect(pooled).toEqual({ ...single, workers: 2 });
    expect(single.blobsScanned).toBe(80);
    expect(progress.at(-1)).toBe(80);
    expect(single.findings.map((f) => f.commit)).toEqual([
      commits[0],
      commits[3],
      ...[10, 20, 30, 40, 50, 60, 70].map((i) => commits[i]),
    ]);
    const earlyFinding = single.findings.find((f) => f.fingerprint === fingerprintSecret(early));
    expect(earlyFinding).toMatchObject({ file: 'f03.env', commit: commits[3], line: 1 });
  });

  it('fails with a typed error naming the blob, in any thread, when git cannot read one', async () => {
    // A copy of the repository with one blob's loose object corrupted: git lists it, then
    // cannot read it.
    const copy = `${repo}-corrupt`;
    await cp(repo, copy, { recursive: true });
    try {
      const blob = git('rev-parse', `${commits[75]}:f75.env`);
      const object = join(copy, '.git', 'objects', blob.slice(0, 2), blob.slice(2));
      await chmod(object, 0o644);
      await writeFile(object, 'not a zlib stream');
      for (const workers of [0, 2]) {
        await expect(scanGitHistory({ repository: copy, workers })).rejects.toMatchObject({
          code: 'ERR_SCAN_GIT',
          message: `git cat-file failed: blob ${blob} (f75.env) is missing or cannot be read; \`git fsck\` tells what is damaged`,
        });
      }
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
