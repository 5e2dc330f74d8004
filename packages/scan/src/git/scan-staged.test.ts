import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

describe.runIf(hasGit)('scanStaged reading the diff', () => {
  let repo: string;
  const git = (...args: string[]) => gitIn(repo, args);
  const put = (path: string, content: string) => writeFile(join(repo, path), content);
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
});
