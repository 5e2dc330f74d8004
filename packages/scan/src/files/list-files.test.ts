import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
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
});
