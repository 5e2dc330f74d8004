import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checksummedToken } from '../../test/generate.js';
import { gitIn } from '../../test/git-repo.js';
import { fingerprintSecret } from '../engine/fingerprint.js';
import { listFiles } from './list-files.js';
import { scanPaths } from './scan-paths.js';

const hasGit = requireTool('git');
const posix = process.platform !== 'win32';
/** Whether file names may be any bytes (Linux; macOS refuses names that are not UTF-8). */
const anyBytes = process.platform === 'linux';
const token = () => checksummedToken('ghp_');

describe('listFiles', () => {
  let top: string;
  let root: string;
  const put = async (path: string, content: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  const listed = async (options: { gitignore?: boolean } = {}) =>
    (await listFiles(['.'], { root, ...options })).map((file) => file.relative);

  beforeEach(async () => {
    top = await mkdtemp(join(tmpdir(), 'custos-list-'));
    root = join(top, 'root');
    await mkdir(root);
  });
  afterEach(async () => {
    await rm(top, { recursive: true, force: true });
  });

  describe.runIf(posix)('symbolic links', () => {
    const secret = token();
    beforeEach(async () => {
      await mkdir(join(top, 'outside'));
      await writeFile(join(top, 'outside', 'secret.env'), `TOKEN=${secret}\n`);
      execFileSync('mkfifo', [join(top, 'outside', 'fifo')]);
      await put('kept.env', 'A=1\n');
      await symlink('../outside/secret.env', join(root, 'link.env'));
      await symlink('../outside', join(root, 'dir-link'));
      await symlink('../outside/fifo', join(root, 'fifo-link.env'));
      await symlink('kept.env', join(root, 'inside-link.env'));
    });

    it('are never followed in a directory scan, outside git', async () => {
      expect(await listed()).toEqual(['kept.env']);
      expect(await listed({ gitignore: false })).toEqual(['kept.env']);
    });

    it.runIf(hasGit)('are never followed in a directory scan, when git tracks them', async () => {
      gitIn(root, ['init', '-q']);
      gitIn(root, ['add', '-A']);
      expect(gitIn(root, ['ls-files'])).toContain('link.env');
      expect(await listed()).toEqual(['kept.env']);
      expect((await scanPaths(['.'], { root })).findings).toEqual([]);
    });

    it('are followed when named, to a regular file only', async () => {
      const report = await scanPaths(['link.env'], { root });
      expect(report.findings.map((f) => [f.file, f.fingerprint])).toEqual([
        ['link.env', fingerprintSecret(secret)],
      ]);
      expect((await listFiles(['dir-link'], { root })).map((f) => f.relative)).toEqual([
        'dir-link/secret.env',
      ]);
      for (const named of ['fifo-link.env', '../outside/fifo']) {
        await expect(listFiles([named], { root })).rejects.toMatchObject({
          code: 'ERR_INVALID_ARGUMENT',
          message: `${named} is not a regular file or a directory`,
        });
      }
    });
  });

  it.runIf(hasGit)(
    'lists the files of repositories inside a git work tree, by their own ignore rules',
    async () => {
      const git = (dir: string, ...args: string[]) => gitIn(join(root, dir), args);
      git('.', 'init', '-q');
      await put('.gitignore', 'ignored-repo/\n');
      await put('kept.env', 'A=1\n');
      // An untracked repository, with one of its own inside, each with a tracked file.
      for (const dir of ['vendor/lib', 'vendor/lib/deep', 'ignored-repo']) {
        await mkdir(join(root, dir), { recursive: true });
        git(dir, 'init', '-q');
        await put(`${dir}/tracked.env`, 'A=1\n');
        git(dir, 'add', 'tracked.env');
      }
      await put('vendor/lib/.gitignore', 'ignored.env\n');
      await put('vendor/lib/ignored.env', 'A=1\n');
      await put('vendor/lib/untracked.env', 'A=1\n');
      await put('vendor/lib/deep/untracked.env', 'A=1\n');
      // A checked-out submodule (a gitlink in the index, its own repository in the work tree)
      // and one that is not checked out (an empty directory).
      await mkdir(join(root, 'sub'));
      git('sub', 'init', '-q');
      await put('sub/sub.env', 'A=1\n');
      git('sub', 'add', '-A');
      git('sub', 'commit', '-q', '-m', 'sub');
      git('.', '-c', 'advice.addEmbeddedRepo=false', 'add', 'sub', '.gitignore', 'kept.env');
      const commit = git('sub', 'rev-parse', 'HEAD');
      git('.', 'update-index', '--add', '--cacheinfo', `160000,${commit},absent-sub`);
      await mkdir(join(root, 'absent-sub'));
      expect(git('.', 'ls-files', '--stage', 'sub')).toMatch(/^160000 /);
      expect(await listed()).toEqual([
        '.gitignore',
        'kept.env',
        'sub/sub.env',
        'vendor/lib/.gitignore',
        'vendor/lib/deep/tracked.env',
        'vendor/lib/deep/untracked.env',
        'vendor/lib/tracked.env',
        'vendor/lib/untracked.env',
      ]);
      // A scan of the nested repository alone lists the same files.
      expect((await listFiles(['vendor/lib'], { root })).map((f) => f.relative)).toEqual([
        'vendor/lib/.gitignore',
        'vendor/lib/deep/tracked.env',
        'vendor/lib/deep/untracked.env',
        'vendor/lib/tracked.env',
        'vendor/lib/untracked.env',
      ]);
      const secret = token();
      await put('vendor/lib/deep/untracked.env', `TOKEN=${secret}\n`);
      const report = await scanPaths(['.'], { root });
      expect(report.findings.map((f) => [f.file, f.fingerprint])).toEqual([
        ['vendor/lib/deep/untracked.env', fingerprintSecret(secret)],
      ]);
    },
  );

  describe.runIf(hasGit)('a repository whose settings point elsewhere', () => {
    const git = (dir: string, ...args: string[]) => gitIn(join(root, dir), args);
    const expected = [
      '.gitignore',
      'kept.env',
      'tracked.env',
      'vendor/lib/lib-tracked.env',
      'vendor/lib/lib-untracked.env',
    ];
    beforeEach(async () => {
      await mkdir(join(top, 'elsewhere'));
      await writeFile(join(top, 'elsewhere', 'other.env'), 'A=1\n');
      git('.', 'init', '-q');
      await put('.gitignore', '*.env\n!kept.env\n');
      await put('kept.env', 'A=1\n');
      await put('tracked.env', 'A=1\n');
      git('.', 'add', '-f', '.gitignore', 'tracked.env');
      await mkdir(join(root, 'vendor', 'lib'), { recursive: true });
      git('vendor/lib', 'init', '-q');
      await put('vendor/lib/lib-tracked.env', 'A=1\n');
      await put('vendor/lib/lib-untracked.env', 'A=1\n');
      git('vendor/lib', 'add', 'lib-tracked.env');
    });

    it('lists a nested repository as it is on disk, whatever its core.worktree says', async () => {
      git('vendor/lib', 'config', 'core.worktree', join(top, 'elsewhere'));
      expect(await listed()).toEqual(expected);
      const secret = token();
      await put('vendor/lib/lib-untracked.env', `TOKEN=${secret}\n`);
      const report = await scanPaths(['.'], { root });
      expect(report.findings.map((f) => [f.file, f.fingerprint])).toEqual([
        ['vendor/lib/lib-untracked.env', fingerprintSecret(secret)],
      ]);
    });

    it('lists the scanned repository as it is on disk, whatever its core.worktree says', async () => {
      git('.', 'config', 'core.worktree', join(top, 'elsewhere'));
      expect(await listed()).toEqual(expected);
      expect((await listFiles(['vendor'], { root })).map((f) => f.relative)).toEqual(
        expected.slice(3),
      );
    });

    it('lists by what is on disk, whatever GIT_DIR or GIT_INDEX_FILE a hook inherits', async () => {
      const saved = { ...process.env };
      // As in a hook of the outer repository: its git directory and a temporary index.
      git('.', 'read-tree', '--index-output=.git/other-index', '--empty');
      process.env.GIT_DIR = join(root, '.git');
      process.env.GIT_INDEX_FILE = join(root, '.git', 'other-index');
      process.env.GIT_WORK_TREE = join(top, 'elsewhere');
      try {
        expect(await listed()).toEqual(expected);
      } finally {
        process.env = saved;
      }
    });

    it('walks a directory inside a .git directory, which is in no work tree', async () => {
      await put('.git/custos/notes.env', 'A=1\n');
      expect((await listFiles(['.git/custos'], { root })).map((f) => f.relative)).toEqual([
        '.git/custos/notes.env',
      ]);
    });

    it.runIf(posix)("runs no command a repository's settings name (core.fsmonitor)", async () => {
      const marker = join(top, 'ran');
      for (const dir of ['.', 'vendor/lib']) {
        git(dir, 'config', 'core.fsmonitor', `touch ${marker}; false`);
      }
      expect(await listed()).toEqual(expected);
      await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe.runIf(hasGit)('a repository git refuses', () => {
    const secret = token();
    /** Runs `body` with git seeing every repository as another user's, and no exception for it. */
    const refused = async (body: () => Promise<void>) => {
      const saved = { ...process.env };
      Object.assign(process.env, {
        GIT_TEST_ASSUME_DIFFERENT_OWNER: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
      });
      try {
        await body();
      } finally {
        process.env = saved;
      }
    };
    beforeEach(async () => {
      gitIn(root, ['init', '-q']);
      await put('.gitignore', '*.env\n');
      await put('prod.env', `TOKEN=${secret}\n`);
      await put('sub/kept.txt', 'A=1\n');
      gitIn(root, ['add', '-f', '.gitignore', 'prod.env', 'sub/kept.txt']);
      // The refusal is git's: "detected dubious ownership" (as for a repository owned by another user).
      expect(() =>
        gitIn(root, ['status'], { GIT_TEST_ASSUME_DIFFERENT_OWNER: '1', GIT_CONFIG_NOSYSTEM: '1' }),
      ).toThrow(/dubious ownership/);
    });

    it("is ERR_SCAN_GIT naming the directory and git's reason, never a walk", async () => {
      await refused(async () => {
        for (const dir of ['.', 'sub']) {
          await expect(listFiles([dir], { root })).rejects.toMatchObject({
            code: 'ERR_SCAN_GIT',
            message: expect.stringMatching(
              new RegExp(
                `dubious ownership.*\\(listing ${join(root, dir).replace(/\W/g, '\\$&')}\\)`,
              ),
            ),
          });
        }
        await expect(scanPaths(['.'], { root })).rejects.toMatchObject({ code: 'ERR_SCAN_GIT' });
      });
      // Trusted, the tracked file is listed although .gitignore matches it.
      expect(await listed()).toEqual(['.gitignore', 'prod.env', 'sub/kept.txt']);
    });

    it('is walked with --no-gitignore, and when git is not installed', async () => {
      await refused(async () => {
        expect(await listed({ gitignore: false })).toEqual([
          '.gitignore',
          'prod.env',
          'sub/kept.txt',
        ]);
        process.env.PATH = '/nonexistent';
        expect(await listed()).toEqual(['.gitignore', 'sub/kept.txt']);
      });
    });
  });

  describe.runIf(anyBytes)('names that are not UTF-8', () => {
    const latin1 = (path: string) => Buffer.from(`${root}/${path}`, 'latin1');
    const secrets = [token(), token(), token()];
    const expected = [
      ['caf\\xe9.env', fingerprintSecret(secrets[0] as string)],
      ['d\\xe9\\xff/x.env', fingerprintSecret(secrets[1] as string)],
      ['r\\xe9po/kept.env', fingerprintSecret(secrets[2] as string)],
    ];
    beforeEach(async () => {
      await mkdir(latin1('d\xe9\xff'));
      await mkdir(latin1('r\xe9po'));
      await writeFile(latin1('caf\xe9.env'), `TOKEN=${secrets[0]}\n`);
      await writeFile(latin1('d\xe9\xff/x.env'), `TOKEN=${secrets[1]}\n`);
      // A repository inside, in a directory git cannot be pointed at: walked by its .gitignore.
      await writeFile(latin1('r\xe9po/kept.env'), `TOKEN=${secrets[2]}\n`);
      await writeFile(latin1('r\xe9po/.gitignore'), 'ignored.env\n');
      await writeFile(latin1('r\xe9po/ignored.env'), `TOKEN=${token()}\n`);
      // (git cannot be given such a path: the repository is made under another name.)
      gitIn(root, ['init', '-q', 'repo']);
      await rename(
        join(root, 'repo', '.git'),
        Buffer.concat([latin1('r\xe9po'), Buffer.from('/.git')]),
      );
      await rm(join(root, 'repo'), { recursive: true });
    });
    const scanned = async (options: { gitignore?: boolean } = {}) => {
      const report = await scanPaths(['.'], { root, workers: 0, ...options });
      expect(report.skipped).toEqual([]);
      return report.findings.map((f) => [f.file, f.fingerprint]);
    };

    it('are scanned by their bytes and reported readably, outside git', async () => {
      expect(await scanned()).toEqual(expected);
      const files = await listFiles(['.'], { root, gitignore: false });
      expect(files.map((f) => f.relative)).toEqual([
        'caf\\xe9.env',
        'd\\xe9\\xff/x.env',
        'r\\xe9po/.gitignore',
        'r\\xe9po/ignored.env',
        'r\\xe9po/kept.env',
      ]);
      expect(Buffer.from(files[0]?.rawPath ?? [])).toEqual(latin1('caf\xe9.env'));
    });

    it.runIf(hasGit)('are scanned by their bytes and reported readably, in git', async () => {
      gitIn(root, ['init', '-q']);
      gitIn(root, ['add', 'caf*']); // tracked; the others untracked
      expect(await scanned()).toEqual(expected);
    });
  });
});
