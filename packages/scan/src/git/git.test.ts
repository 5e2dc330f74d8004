import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { gitIn } from '../../test/git-repo.js';
import { fingerprintSecret } from '../engine/fingerprint.js';
import { installPreCommitHook, PRE_COMMIT_HOOK } from './install-hook.js';
import { scanGitHistory } from './scan-history.js';
import { scanStaged } from './scan-staged.js';

const hasGit = requireTool('git');

describe.runIf(hasGit)('git scanning', () => {
  let repo: string;
  const git = (...args: string[]) => gitIn(repo, args);
  const put = async (path: string, content: string) => {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  };
  const commit = (message: string, date: string) => {
    git('add', '-A');
    gitIn(repo, ['commit', '-q', '-m', message, '--date', date], { GIT_COMMITTER_DATE: date });
    return git('rev-parse', 'HEAD');
  };

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'custos-scan-git-'));
    git('init', '-q', '-b', 'main');
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('scans history by unique blob and reports the commit that introduced each secret', async () => {
    const first = `sk_live_${randomString(24)}`;
    const second = `sk_live_${randomString(24)}`;
    await put('config.env', `A=1\nSTRIPE=${first}\n`);
    const added = commit('add config', '2024-01-01T10:00:00Z');
    git('mv', 'config.env', 'settings.env'); // moved: the same blob
    const moved = commit('move config', '2024-01-02T10:00:00Z');
    await put('settings.env', `A=2\nSTRIPE=${first}\n`); // edited: a new blob, same secret
    await put('other.env', `KEY=${second}\n`);
    const edited = commit('edit and add', '2024-01-03T10:00:00Z');
    git('rm', '-q', 'settings.env');
    commit('delete config', '2024-01-04T10:00:00Z');
    // The same blob on another branch is read once.
    git('checkout', '-q', '-b', 'feature', moved);
    await put('copy.env', `A=2\nSTRIPE=${first}\n`);
    commit('copy on a branch', '2024-01-05T10:00:00Z');
    git('checkout', '-q', 'main');

    const report = await scanGitHistory({ repository: repo });
    expect(
      report.findings.map((f) => [f.file, f.line, f.commit, f.author, f.date?.slice(0, 10)]),
    ).toEqual([
      ['config.env', 2, added, 'Ada', '2024-01-01'],
      ['other.env', 1, edited, 'Ada', '2024-01-03'],
    ]);
    expect(report.findings.map((f) => f.fingerprint)).toEqual([
      fingerprintSecret(first),
      fingerprintSecret(second),
    ]);
    expect(report.blobsScanned).toBe(3); // config.env v1, settings.env v2 (= copy.env), other.env
    expect(JSON.stringify(report)).not.toContain(first.slice(8));

    // Only what is new since a revision, on one branch.
    const since = await scanGitHistory({ repository: repo, since: moved, branch: 'main' });
    expect(since.findings.map((f) => [f.file, f.commit])).toEqual([
      ['other.env', edited],
      ['settings.env', edited], // the edited file is a new blob: its secret counts as new
    ]);
    const feature = git('rev-parse', 'feature');
    const onlyFeature = await scanGitHistory({
      repository: repo,
      since: 'main',
      branch: 'feature',
    });
    expect(onlyFeature.findings.map((f) => [f.file, f.commit])).toEqual([['copy.env', feature]]);
    expect(onlyFeature.blobsScanned).toBe(1);
  });

  it('fails with ERR_SCAN_GIT outside a repository or on an unknown revision', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'custos-scan-nogit-'));
    try {
      await expect(scanGitHistory({ repository: outside })).rejects.toMatchObject({
        code: 'ERR_SCAN_GIT',
      });
      await expect(scanStaged({ repository: outside })).rejects.toMatchObject({
        code: 'ERR_SCAN_GIT',
        message: expect.stringContaining('git diff failed: not a git repository'),
      });
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
    await put('a.txt', 'a\n');
    commit('one', '2024-01-01T10:00:00Z');
    await expect(scanGitHistory({ repository: repo, since: 'no-such-rev' })).rejects.toMatchObject({
      code: 'ERR_SCAN_GIT',
    });
    await expect(scanGitHistory({ repository: repo, branch: '--output=x' })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('scans the index, reporting only secrets on lines the commit adds', async () => {
    const old = `sk_live_${randomString(24)}`;
    await put('app.env', `OLD=${old}\nA=1\n`);
    commit('one', '2024-01-01T10:00:00Z');
    const fresh = `sk_live_${randomString(24)}`;
    await put('app.env', `OLD=${old}\nA=1\nNEW=${fresh}\n`);
    await put('new dir/x.env', `K=sk_live_${randomString(24)}\n`);
    git('add', '-A');
    await put('app.env', 'worktree only, not staged\n');
    const findings = await scanStaged({ repository: join(repo) });
    expect(findings.map((f) => [f.file, f.line])).toEqual([
      ['app.env', 3],
      ['new dir/x.env', 1],
    ]);
    expect(findings[0]?.fingerprint).toBe(fingerprintSecret(fresh));
    // From a subdirectory, even with `diff.relative` set: the whole index, paths from the top.
    git('config', 'diff.relative', 'true');
    const fromSubdirectory = await scanStaged({ repository: join(repo, 'new dir') });
    expect(fromSubdirectory.map((f) => [f.file, f.line])).toEqual([
      ['app.env', 3],
      ['new dir/x.env', 1],
    ]);
  });

  it('installs the pre-commit hook, keeping another hook unless forced', async () => {
    const path = await installPreCommitHook({ repository: repo });
    expect(await readFile(path, 'utf8')).toBe(PRE_COMMIT_HOOK);
    expect((await stat(path)).mode & 0o111).not.toBe(0);
    await writeFile(path, '#!/bin/sh\nexit 0\n');
    await expect(installPreCommitHook({ repository: repo })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await installPreCommitHook({ repository: repo, force: true });
    expect(await readFile(path, 'utf8')).toBe(PRE_COMMIT_HOOK);
  });
});
