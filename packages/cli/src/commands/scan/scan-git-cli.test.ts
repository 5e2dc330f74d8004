import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';
import { gitIn } from '../../../test/git.js';
import { githubToken } from '../../../test/github-token.js';

const hasGit = requireTool('git');

describe.runIf(hasGit)('custos scan in a git work tree', () => {
  let top: string;
  let dir: string;
  const run = (args: string[]) => custos(['scan', '--format', 'json', ...args], { cwd: dir });
  const files = (stdout: string) =>
    (JSON.parse(stdout) as { findings: Array<{ file: string; line: number }> }).findings.map(
      (f) => [f.file, f.line],
    );
  const git = (...args: string[]) => gitIn(dir, args);

  beforeEach(async () => {
    top = await mkdtemp(join(tmpdir(), 'custos-scan-git-cli-'));
    dir = join(top, 'repo');
    await mkdir(dir);
    git('init', '-q', '-b', 'main');
  });
  afterEach(async () => {
    await rm(top, { recursive: true, force: true });
  });

  it('--staged finds secrets after an added "++ " line, in quoted names and in -diff files', async () => {
    await writeFile(join(dir, '.gitattributes'), '*.env -diff\n');
    await writeFile(join(dir, 'app.env'), 'A=1\nB=2\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    const tokens = [githubToken(), githubToken()];
    await writeFile(join(dir, 'app.env'), `++ ok\nA=1\nTOKEN=${tokens[0]}\nB=2\n`);
    await writeFile(join(dir, 'a"b\tc.txt'), `TOKEN=${tokens[1]}\n`);
    git('add', '-A');
    const result = await run(['--staged']);
    expect(result.code).toBe(1);
    expect(files(result.stdout)).toEqual([
      ['a"b\tc.txt', 1],
      ['app.env', 3],
    ]);
    for (const token of tokens) expect(result.stdout + result.stderr).not.toContain(token);
  });

  it('--staged and --git say which files they did not scan, as a directory scan does', async () => {
    await writeFile(join(dir, 'big.env'), `TOKEN=${githubToken()}\n${'x'.repeat(200)}\n`);
    await writeFile(join(dir, 'image.png'), Buffer.from([0x89, 0x50, 0, 0, 1]));
    git('add', '-A');
    const notes = [
      'not scanned, larger than the size limit (--max-file-size): big.env',
      'not scanned: 1 file binary',
    ];
    const staged = await run(['--staged', '--max-file-size', '100']);
    expect(staged.code).toBe(0);
    expect(staged.stderr.split('\n').filter((line) => line !== '')).toEqual(notes);
    git('commit', '-q', '-m', 'one');
    const history = await run(['--git', '--max-file-size', '100']);
    expect(history.code).toBe(0);
    expect(history.stderr.split('\n').filter((line) => line !== '')).toEqual(notes);
  });

  it('a directory scan lists nested repositories and names that are not UTF-8, never links', async () => {
    const tokens = [githubToken(), githubToken(), githubToken()];
    await writeFile(join(top, 'outside.env'), `TOKEN=${tokens[0]}\n`);
    await symlink('../outside.env', join(dir, 'link.env'));
    await mkdir(join(dir, 'vendor', 'lib'), { recursive: true });
    execFileSync('git', ['init', '-q'], { cwd: join(dir, 'vendor', 'lib') });
    await writeFile(join(dir, 'vendor', 'lib', 'lib.env'), `TOKEN=${tokens[1]}\n`);
    const latin1 = process.platform === 'linux';
    if (latin1) await writeFile(Buffer.from(`${dir}/caf\xe9.env`, 'latin1'), `T=${tokens[2]}\n`);
    git('add', 'link.env');
    const result = await run([]);
    expect(result.code).toBe(1);
    expect(files(result.stdout)).toEqual([
      ...(latin1 ? [['caf\\xe9.env', 1]] : []),
      ['vendor/lib/lib.env', 1],
    ]);
    for (const token of tokens) expect(result.stdout + result.stderr).not.toContain(token);
  });
  it('a directory scan of a repository git refuses exits 2, never walks past what git tracks', async () => {
    const token = githubToken();
    await writeFile(join(dir, '.gitignore'), '*.env\n');
    await writeFile(join(dir, 'prod.env'), `TOKEN=${token}\n`);
    git('add', '-f', '.gitignore', 'prod.env');
    // As for a repository owned by another user (a CI container): "detected dubious ownership".
    const env = { GIT_TEST_ASSUME_DIFFERENT_OWNER: '1', GIT_CONFIG_NOSYSTEM: '1' };
    const result = await custos(['scan'], { cwd: dir, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ERR_SCAN_GIT');
    expect(result.stderr).toContain('detected dubious ownership');
    expect(result.stderr).toContain(`(listing ${dir})`);
    expect(result.stdout + result.stderr).not.toContain(token);
    const trusted = await run([]);
    expect(trusted.code).toBe(1);
    expect(files(trusted.stdout)).toEqual([['prod.env', 1]]);
    expect(trusted.stdout + trusted.stderr).not.toContain(token);
  });
});
