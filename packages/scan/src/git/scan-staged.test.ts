import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checksummedToken } from '../../test/generate.js';
import { gitIn } from '../../test/git-repo.js';
import { fingerprintSecret } from '../engine/fingerprint.js';
import { scanStaged } from './scan-staged.js';

const hasGit = requireTool('git');
const token = () => checksummedToken('ghp_');
/** Whether file names may be any bytes (Linux; macOS refuses names that are not UTF-8). */
const anyBytes = process.platform === 'linux';

describe.runIf(hasGit)('scanStaged reading the diff', () => {
  let repo: string;
  const git = (...args: string[]) => gitIn(repo, args);
  const put = async (path: string | Buffer, content: string) => {
    const full = Buffer.concat([Buffer.from(`${repo}/`), Buffer.from(path)]);
    await mkdir(full.subarray(0, full.lastIndexOf('/')), { recursive: true });
    await writeFile(full, content);
  };
  const found = async () =>
    (await scanStaged({ repository: repo })).map((f) => [f.file, f.line, f.fingerprint]);

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'custos-scan-staged-'));
    git('init', '-q', '-b', 'main');
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('reads a file header only before its first hunk: added lines that look like one are lines', async () => {
    // Added `++ x` and removed `-- x` show as `+++ x` and `--- x`, what a file header holds;
    // each is followed by a hunk of its own, which must still count for this file.
    const lookalikes = ['++ b/z.env', '++ /dev/null', '++ ok', '++ "b/q.env"', '++ '];
    const kept = lookalikes.map((_, i) => `k${i}\n`);
    await put('notes.md', `${kept.join('')}-- a/notes.md\n-- /dev/null\n`);
    await put('z.env', 'Z=1\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    const secrets = lookalikes.map(() => token());
    await put(
      'notes.md',
      lookalikes.map((line, i) => `${line}\n${kept[i]}TOKEN=${secrets[i]}\n`).join(''),
    );
    await put('z.env', 'Z=2\n');
    git('add', '-A');
    expect(await found()).toEqual(
      secrets.map((secret, i) => ['notes.md', 3 * i + 3, fingerprintSecret(secret)]),
    );
  });

  it('scans staged UTF-16 text (with a byte order mark) as text, every line of it', async () => {
    const [old, added] = [token(), token()];
    const utf16 = (text: string) => Buffer.from(`\ufeff${text}`, 'utf16le');
    await writeFile(join(repo, 'win.env'), utf16(`OLD=${old}\r\n`));
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    await writeFile(join(repo, 'win.env'), utf16(`OLD=${old}\r\nNEW=${added}\r\n`));
    await writeFile(join(repo, 'be.env'), utf16(`NEW=${added}\r\n`).swap16());
    git('add', '-A');
    // The line already committed too: git's lines of UTF-16 are not its lines (below).
    expect(await found()).toEqual([
      ['be.env', 1, fingerprintSecret(added)],
      ['win.env', 1, fingerprintSecret(old)],
      ['win.env', 2, fingerprintSecret(added)],
    ]);
  });

  it('reports every finding of staged UTF-16 text: git’s lines are not its lines', async () => {
    // U+4E0A is 0A 4E in UTF-16LE: git sees a line break inside the character.
    const utf16 = (text: string) => Buffer.from(`\ufeff${text}`, 'utf16le');
    await writeFile(join(repo, 'cfg.txt'), utf16('# \u4e0a\nname=x\n'));
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    const added = token();
    await writeFile(join(repo, 'cfg.txt'), utf16(`# \u4e0a\nGITHUB_TOKEN=${added}\nname=x\n`));
    git('add', '-A');
    expect(await found()).toEqual([['cfg.txt', 2, fingerprintSecret(added)]]);
  });

  it('reports staged PKCS#12 key stores whole, and tells which files it did not scan', async () => {
    const store = Buffer.concat([Buffer.from([0x30, 0x82, 0x0a, 0x00]), Buffer.alloc(40, 7)]);
    await writeFile(join(repo, 'client.p12'), store);
    await writeFile(join(repo, 'image.png'), Buffer.from([0x89, 0x50, 0, 0, 1]));
    await writeFile(join(repo, 'big.env'), `TOKEN=${token()}\n${'x'.repeat(200)}\n`);
    await writeFile(join(repo, 'app.min.js'), 'var a=1;\n');
    git('add', '-A');
    const skipped: unknown[] = [];
    const findings = await scanStaged({
      repository: repo,
      maxFileBytes: 100,
      onSkipped: (file) => skipped.push(file),
    });
    expect(findings.map((f) => [f.file, f.rule])).toEqual([['client.p12', 'pkcs12-file']]);
    expect(skipped).toEqual([
      { file: 'app.min.js', reason: 'minified' },
      { file: 'big.env', reason: 'huge' },
      { file: 'image.png', reason: 'binary' },
    ]);
  });

  it('scans files whose names git quotes or that are not UTF-8, under a readable name', async () => {
    const names: Array<[string | Buffer, string]> = [
      'a"b.env',
      'tab\there.env',
      'back\\slash.env',
      'new\nline.env',
      'bell\x07del\x7f.env',
      'café.env',
      'sp ace.env',
      '"q b".env',
      'd"ir/in ner.env',
    ].map((name) => [name, name]);
    if (anyBytes) {
      names.push([Buffer.from('caf\xe9.env', 'latin1'), 'caf\\xe9.env']);
      names.push([Buffer.from('d\xe9\xff/x.env', 'latin1'), 'd\\xe9\\xff/x.env']);
    }
    const secrets = names.map(() => token());
    for (const [i, [path]] of names.entries()) await put(path, `A=1\nTOKEN=${secrets[i]}\n`);
    git('add', '-A');
    const expected = names.map(([, shown], i) => [
      shown,
      2,
      fingerprintSecret(secrets[i] as string),
    ]);
    const byName = (a: unknown[], b: unknown[]) => (String(a[0]) < String(b[0]) ? -1 : 1);
    expect((await found()).sort(byName)).toEqual(expected.sort(byName));
  });

  it('reads files that attributes call binary as text; binary content is still skipped', async () => {
    await put('.gitattributes', '*.env -diff\n*.cfg binary\n*.txt diff=upper\n');
    git('config', 'diff.upper.textconv', 'tr a-z A-Z');
    const old = token();
    await put('a.env', `A=1\nOLD=${old}\n`);
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    const secrets = [token(), token(), token(), token()];
    await put('a.env', `A=1\nOLD=${old}\nNEW=${secrets[0]}\n`);
    await put('b.cfg', `TOKEN=${secrets[1]}\n`);
    await put('c.txt', `TOKEN=${secrets[2]}\n`);
    await put('d.bin', `\0\nTOKEN=${secrets[3]}\n`);
    git('add', '-A');
    expect(await found()).toEqual([
      ['a.env', 3, fingerprintSecret(secrets[0] as string)],
      ['b.cfg', 1, fingerprintSecret(secrets[1] as string)],
      ['c.txt', 1, fingerprintSecret(secrets[2] as string)],
    ]);
  });

  it('finds the same whatever the repository configuration says about diffs', async () => {
    const lines = (first: string, last: string) =>
      `${first}\nA=1\nB=2\nOLD=${old}\nC=3\nD=4\n${last}\n`;
    const old = token();
    // Similar enough to its old self that git would see a rename (which --diff-filter=A omits).
    const moved = Array.from({ length: 40 }, (_, i) => `SETTING_${i}=value ${i}\n`).join('');
    await put('app.env', lines('X=0', 'Y=0'));
    await put('moved.env', moved);
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    const secrets = [token(), token(), token(), token()];
    await put('app.env', lines(`NEW=${secrets[0]}`, `NEW=${secrets[1]}`));
    await put('é/ü.env', `TOKEN=${secrets[2]}\n`);
    git('mv', 'moved.env', 'renamed.env');
    await put('renamed.env', `${moved}TOKEN=${secrets[3]}\n`);
    git('add', '-A');
    git('update-index', '--add', '--cacheinfo', `160000,${git('rev-parse', 'HEAD')},vendor/sub`);
    const expected = [
      ['app.env', 1, fingerprintSecret(secrets[0] as string)],
      ['app.env', 7, fingerprintSecret(secrets[1] as string)],
      ['renamed.env', 41, fingerprintSecret(secrets[3] as string)],
      ['é/ü.env', 1, fingerprintSecret(secrets[2] as string)],
    ];
    expect(await found()).toEqual(expected);
    // A diff driver that prints nothing useful, wherever the user's settings could call one.
    const external = join(repo, '.git', 'external-diff');
    await writeFile(external, '#!/bin/sh\necho "+++ b/elsewhere"\necho "@@ -0,0 +1,99 @@"\n');
    await chmod(external, 0o755);
    await put('.git/info/attributes', '* diff=hostile\n');
    const hostile: Array<[string, string]> = [
      ['diff.noprefix', 'true'],
      ['diff.mnemonicPrefix', 'true'],
      ['color.ui', 'always'],
      ['color.diff', 'always'],
      ['diff.external', external],
      ['diff.hostile.command', external],
      ['diff.hostile.textconv', 'tr a-z A-Z'],
      ['core.quotePath', 'false'],
      ['diff.interHunkContext', '10'],
      ['diff.context', '8'],
      ['diff.submodule', 'log'],
      ['diff.relative', 'true'],
      ['diff.renames', 'copies'],
      ['diff.suppressBlankEmpty', 'true'],
    ];
    for (const [name, value] of hostile) git('config', name, value);
    expect(await found()).toEqual(expected);
  });
});
