import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { listFiles } from './list-files.js';
import { scanPaths } from './scan-paths.js';

const hasGit = requireTool('git');
const stripeKey = () => `sk_live_${randomString(24)}`;

describe('scanPaths', () => {
  let root: string;
  const put = async (path: string, content: string | Buffer) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'custos-scan-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reports findings with paths relative to the root, in file and line order', async () => {
    await put('b/app.env', `A=1\nKEY=${stripeKey()}\n`);
    await put('a.env', `KEY=${stripeKey()}\n`);
    await put('clean.txt', 'nothing here\n');
    const report = await scanPaths(['.'], { root });
    expect(report.findings.map((f) => [f.file, f.line])).toEqual([
      ['a.env', 1],
      ['b/app.env', 2],
    ]);
    expect(report.filesScanned).toBe(3);
  });

  it('follows .gitignore (nested too) and .custosignore outside git', async () => {
    await put('.gitignore', 'ignored.env\n');
    await put('sub/.gitignore', '*.secret\n');
    await put('.custosignore', 'vendor/\n');
    await put('ignored.env', `KEY=${stripeKey()}\n`);
    await put('sub/x.secret', `KEY=${stripeKey()}\n`);
    await put('vendor/lib.env', `KEY=${stripeKey()}\n`);
    await put('kept.env', `KEY=${stripeKey()}\n`);
    const files = (await listFiles(['.'], { root })).map((f) => f.relative);
    expect(files).toEqual(['.custosignore', '.gitignore', 'kept.env', 'sub/.gitignore']);
    expect((await scanPaths(['.'], { root })).findings.map((f) => f.file)).toEqual(['kept.env']);
    // Without .gitignore the ignored files count; .custosignore still applies.
    expect(
      (await scanPaths(['.'], { root, gitignore: false })).findings.map((f) => f.file),
    ).toEqual(['ignored.env', 'kept.env', 'sub/x.secret']);
  });

  it.runIf(hasGit)(
    'lists what git lists inside a work tree, untracked files included',
    async () => {
      execFileSync('git', ['init', '-q', root]);
      await put('.gitignore', 'build/\n');
      await put('build/out.env', `KEY=${stripeKey()}\n`);
      await put('untracked.env', `KEY=${stripeKey()}\n`);
      await put('.git/info/exclude', 'excluded.env\n');
      await put('excluded.env', `KEY=${stripeKey()}\n`);
      expect((await scanPaths(['.'], { root })).findings.map((f) => f.file)).toEqual([
        'untracked.env',
      ]);
    },
  );

  it('scans a file named explicitly even when ignored', async () => {
    await put('.custosignore', '*.env\n');
    await put('x.env', `KEY=${stripeKey()}\n`);
    expect((await scanPaths(['.'], { root })).findings).toEqual([]);
    expect((await scanPaths(['x.env'], { root })).findings).toHaveLength(1);
  });

  it('skips binary, minified and huge files, and says so', async () => {
    await put(
      'image.bin',
      Buffer.concat([Buffer.from([0x89, 0, 1, 2]), Buffer.from(`KEY=${stripeKey()}`)]),
    );
    await put('app.min.js', `var k="${stripeKey()}";`);
    await put('bundle.js', `${'var a=1;'.repeat(1000)}var k="${stripeKey()}";`);
    await put('big.env', `KEY=${stripeKey()}\n${'#'.repeat(10_000)}\n`);
    const report = await scanPaths(['.'], { root, maxFileBytes: 9500 });
    expect(report.findings).toEqual([]);
    expect(report.skipped).toEqual([
      { file: 'app.min.js', reason: 'minified' },
      { file: 'big.env', reason: 'huge' },
      { file: 'bundle.js', reason: 'minified' },
      { file: 'image.bin', reason: 'binary' },
    ]);
    const all = await scanPaths(['.'], { root, scanMinified: true });
    expect(all.findings.map((f) => f.file)).toEqual(['app.min.js', 'big.env', 'bundle.js']);
  });

  it('reads every byte, of an empty file or a large one, up to exactly the size limit', async () => {
    const tail = `\nKEY=${stripeKey()}\n`;
    const large = `${'// filler\n'.repeat(20_000)}${tail}`;
    await put('empty.env', '');
    await put('large.env', large);
    const exact = Buffer.byteLength(large);
    const report = await scanPaths(['.'], { root, maxFileBytes: exact, workers: 0 });
    expect(report.findings.map((f) => [f.file, f.line])).toEqual([['large.env', 20_002]]);
    expect(report.bytesScanned).toBe(exact);
    expect(report.skipped).toEqual([]);
    const smaller = await scanPaths(['.'], { root, maxFileBytes: exact - 1, workers: 0 });
    expect(smaller.skipped).toEqual([{ file: 'large.env', reason: 'huge' }]);
  });

  it('reads each file alone: nothing of a larger file read before it shows in a smaller one', async () => {
    // Read in this order by one thread, through one reused read buffer (grown past 1 MiB for
    // the first file, dropped at the next read).
    const contents = [
      `${'# filler\n'.repeat(120_000)}KEY=${stripeKey()}\n`,
      'PORT=1\n',
      `${'# filler\n'.repeat(100)}KEY=${stripeKey()}\n`,
    ];
    await put('a-large.env', contents[0] as string);
    await put('b-small.env', contents[1] as string);
    await put('c-medium.env', contents[2] as string);
    const report = await scanPaths(['.'], { root, workers: 0 });
    expect(report.findings.map((f) => [f.file, f.line])).toEqual([
      ['a-large.env', 120_001],
      ['c-medium.env', 101],
    ]);
    const bytes = contents.reduce((sum, content) => sum + Buffer.byteLength(content), 0);
    expect(report.bytesScanned).toBe(bytes);
  });

  it('reports PKCS#12 key stores as a whole', async () => {
    await put('certs/client.p12', Buffer.from([0x30, 0x82, 0, 1, 2, 3]));
    const report = await scanPaths(['.'], { root });
    expect(report.findings.map((f) => [f.rule, f.file, f.redacted])).toEqual([
      ['pkcs12-file', 'certs/client.p12', '…'],
    ]);
  });

  it('drops allowlisted paths before reading them', async () => {
    await put('docs/example.env', `KEY=${stripeKey()}\n`);
    await put('src/app.env', `KEY=${stripeKey()}\n`);
    const report = await scanPaths(['.'], { root, allowlist: { paths: ['docs/**'] } });
    expect(report.findings.map((f) => f.file)).toEqual(['src/app.env']);
    expect(report.filesScanned).toBe(1);
  });
});
