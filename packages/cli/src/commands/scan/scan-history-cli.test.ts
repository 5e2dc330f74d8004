import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';
import { gitIn } from '../../../test/git.js';
import { githubToken } from '../../../test/github-token.js';

const hasGit = requireTool('git');

describe.runIf(hasGit)('custos scan --git, by place', () => {
  let dir: string;
  const git = (...args: string[]) => gitIn(dir, args);
  const commit = (message: string) => {
    git('add', '-A');
    git('commit', '-qm', message);
    return git('rev-parse', 'HEAD');
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-scan-history-cli-'));
    git('init', '-q', '-b', 'main');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves out allowlisted paths and .gitleaksignore places, never the same secret elsewhere', async () => {
    const example = githubToken();
    const ignored = githubToken();
    await mkdir(join(dir, 'docs', 'examples'), { recursive: true });
    await writeFile(join(dir, 'docs', 'examples', 'sample.env'), `GITHUB_TOKEN=${example}\n`);
    await writeFile(join(dir, 'a.env'), `A=1\nGITHUB_TOKEN=${ignored}\n`);
    await writeFile(join(dir, 'c.env'), `GITHUB_TOKEN=${githubToken()}\n`);
    commit('one');
    await mkdir(join(dir, 'config'));
    await copyFile(join(dir, 'docs', 'examples', 'sample.env'), join(dir, 'config', 'prod.env'));
    await writeFile(join(dir, 'b.env'), `GITHUB_TOKEN=${ignored}\n`);
    await copyFile(join(dir, 'c.env'), join(dir, 'd.env'));
    const second = commit('two');
    await writeFile(
      join(dir, '.custos-scan.json'),
      JSON.stringify({ allowlist: { paths: ['docs/examples/**'] } }),
    );
    await writeFile(join(dir, '.gitleaksignore'), 'a.env:github-pat:2\nc.env:github-pat:1\n');

    const history = await custos(['scan', '--git', '--format', 'json'], { cwd: dir });
    expect(history.code).toBe(1);
    expect(history.stdout).not.toContain(example.slice(4));
    expect(
      JSON.parse(history.stdout).findings.map((f: { file: string; commit: string }) => [
        f.file,
        f.commit,
      ]),
    ).toEqual([
      ['b.env', second],
      ['config/prod.env', second],
      ['d.env', second],
    ]);
    // The directory scan agrees on the last commit's files.
    const tree = await custos(['scan', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(tree.stdout).findings.map((f: { file: string }) => f.file)).toEqual([
      'b.env',
      'config/prod.env',
      'd.env',
    ]);
  });
});
