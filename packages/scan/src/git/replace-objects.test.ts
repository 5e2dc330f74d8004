/**
 * Replacement objects (`git replace`) swap a blob's content whenever git reads it, while
 * `git push` still sends the original: history and staged scans judge what the repository
 * holds, never the replacement (found by an outside probe: a replaced blob hid a secret).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@custos/test-support/tools';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checksummedToken } from '../../test/generate.js';
import { gitIn } from '../../test/git-repo.js';
import { fingerprintSecret } from '../engine/fingerprint.js';
import { scanGitHistory } from './scan-history.js';
import { scanStaged } from './scan-staged.js';

const hasGit = requireTool('git');

describe.runIf(hasGit)('scans and replacement objects', () => {
  let repo: string;
  const git = (...args: string[]) => gitIn(repo, args);
  /** A clean blob written to the object store, to stand in for the one holding the secret. */
  const cleanBlob = async () => {
    await writeFile(join(repo, 'clean.tmp'), 'TOKEN=nothing-here\n');
    return git('hash-object', '-w', 'clean.tmp');
  };

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'custos-scan-replace-'));
    git('init', '-q', '-b', 'main');
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('finds a committed secret whose blob a replace ref hides', async () => {
    const token = checksummedToken('ghp_');
    await writeFile(join(repo, 'app.env'), `TOKEN=${token}\n`);
    git('add', 'app.env');
    git('commit', '-q', '-m', 'add');
    git('replace', git('rev-parse', 'HEAD:app.env'), await cleanBlob());
    expect(git('cat-file', '-p', 'HEAD:app.env')).toBe('TOKEN=nothing-here');
    for (const workers of [0, 1]) {
      const { findings } = await scanGitHistory({ repository: repo, workers });
      expect(findings.map((f) => [f.file, f.fingerprint])).toEqual([
        ['app.env', fingerprintSecret(token)],
      ]);
    }
  });

  it('finds a staged secret whose blob a replace ref hides', async () => {
    const token = checksummedToken('ghp_');
    await writeFile(join(repo, 'app.env'), `TOKEN=${token}\n`);
    git('add', 'app.env');
    git('replace', git('rev-parse', ':app.env'), await cleanBlob());
    const findings = await scanStaged({ repository: repo });
    expect(findings.map((f) => [f.file, f.fingerprint])).toEqual([
      ['app.env', fingerprintSecret(token)],
    ]);
  });
});
