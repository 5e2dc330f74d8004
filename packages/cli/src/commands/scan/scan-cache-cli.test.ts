import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';
import { githubToken } from '../../../test/github-token.js';

/** A GitHub token with a valid checksum (random: nothing secret-looking is committed). */
describe('custos scan --cache, against a cache it did not write or cannot write', () => {
  let dir: string;
  let mine: string;
  let theirs: string;
  const scan = (args: string[], cacheHome: string) =>
    custos(['scan', ...args], { cwd: dir, env: { XDG_CACHE_HOME: cacheHome } });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-scan-cache-cli-'));
    mine = await mkdtemp(join(tmpdir(), 'custos-scan-cache-cli-mine-'));
    theirs = await mkdtemp(join(tmpdir(), 'custos-scan-cache-cli-theirs-'));
  });
  afterEach(async () => {
    for (const path of [dir, mine, theirs]) await rm(path, { recursive: true, force: true });
  });

  it('finds a secret whose entry a committed or altered cache empties', async () => {
    const token = githubToken();
    await writeFile(join(dir, 'app.env'), `GITHUB_TOKEN=${token}\n`);
    // Made on another machine (a pull request's), then every entry emptied.
    expect((await scan(['--cache'], theirs)).code).toBe(1);
    const file = join(dir, '.custos-scan-cache');
    const shipped = JSON.parse(await readFile(file, 'utf8'));
    for (const key of Object.keys(shipped.entries)) shipped.entries[key] = [];
    await writeFile(file, JSON.stringify(shipped));
    expect((await scan(['--cache'], theirs)).code).toBe(1); // altered: not even theirs
    await writeFile(file, JSON.stringify(shipped));
    const found = await scan(['--cache'], mine);
    expect(found.code).toBe(1);
    expect(found.stdout).toContain('app.env:1:14  github-token');
    expect(found.stdout + found.stderr).not.toContain(token.slice(4));
    // The shipped cache is no cache of this machine's: it is scanned as any file is.
    expect(found.stderr).toContain('scan cache: 0 of 2 files unchanged');
    // From then on, the cache is this machine's own.
    expect((await scan(['--cache'], mine)).stderr).toContain('scan cache: 1 of 1 files unchanged');
  });

  it.runIf(existsSync('/proc/self'))(
    'fails (2) naming the cache location it cannot create, rather than spinning',
    async () => {
      await writeFile(join(dir, 'app.env'), 'A=1\n');
      const place = '/proc/custos-none/sub/scan.json';
      const result = await scan(['--cache-location', place], mine);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(place);
    },
  );
});
