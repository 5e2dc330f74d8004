import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checksummedToken } from '../../test/generate.js';
import { defaultCacheKeyFile } from './cache-key.js';
import { cacheKey, openScanCache } from './scan-cache.js';
import { scanPaths } from './scan-paths.js';

describe('the scan cache, authenticated', () => {
  let root: string;
  let outside: string;
  let cachePath: string;
  let keyFile: string;
  const put = async (path: string, content: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  /** One run: open the cache (under `key`), scan, save. */
  const run = async (key = keyFile, path = cachePath) => {
    const cache = await openScanCache(path, { keyFile: key });
    const report = await scanPaths(['.'], { root, gitignore: false, cache });
    await cache.save();
    return report;
  };
  const stored = async (path = cachePath) => JSON.parse(await readFile(path, 'utf8'));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'custos-scan-cache-trust-'));
    outside = await mkdtemp(join(tmpdir(), 'custos-scan-cache-key-'));
    cachePath = join(root, '.custos-scan-cache'); // the default: inside the scanned tree
    keyFile = join(outside, 'custos', 'scan-cache.key');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('ignores a cache changed by anyone without the key: an entry never hides a secret', async () => {
    const secret = `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`;
    await put('app.env', secret);
    await put('clean.txt', 'nothing\n');
    expect((await run()).findings).toHaveLength(1);
    expect((await run()).cachedFiles).toBe(2);
    const good = await stored();
    const appKey = cacheKey('app.env', Buffer.from(secret), undefined);
    expect(good.entries[appKey]).toHaveLength(1);
    // A file added with a secret, and an entry for it the scanner never wrote.
    const added = `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`;
    const addedKey = cacheKey('added.env', Buffer.from(added), undefined);
    const forgedMac = (entries: object) =>
      createHmac('sha256', randomBytes(32))
        .update(`${good.format}\n${good.scanner}\n${JSON.stringify(entries)}`)
        .digest('hex');
    const emptied = { ...good.entries, [appKey]: [] };
    for (const tampered of [
      { ...good, entries: emptied }, // the MAC of other entries
      { ...good, entries: { ...good.entries, [addedKey]: [] } },
      { format: good.format, scanner: good.scanner, entries: emptied }, // no MAC
      { ...good, entries: emptied, mac: '' },
      { ...good, entries: emptied, mac: good.mac.slice(0, 62) },
      { ...good, entries: emptied, mac: forgedMac(emptied) }, // under another key
    ]) {
      await put('added.env', added);
      await writeFile(cachePath, JSON.stringify(tampered));
      const report = await run();
      expect(report.cachedFiles).toBe(0);
      expect(report.findings.map((f) => f.file)).toEqual(['added.env', 'app.env']);
      await rm(join(root, 'added.env'));
    }
  });

  it('trusts no cache made under another key, or without one: a cache shipped with the tree is rebuilt', async () => {
    await put('app.env', `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`);
    // Another machine's cache (a pull request's), authentic under its own key, saying app.env
    // holds nothing.
    const theirs = join(outside, 'theirs.key');
    const cache = await openScanCache(cachePath, { keyFile: theirs });
    cache.record(cacheKey('app.env', await readFile(join(root, 'app.env')), undefined), [], false);
    await cache.save();
    const report = await run();
    expect(report.cachedFiles).toBe(0);
    expect(report.findings.map((f) => f.file)).toEqual(['app.env']);
    // The key missing (a CI cache restored without it): ignored, never an error; made again.
    expect((await run()).cachedFiles).toBe(1);
    await rm(keyFile);
    expect((await run()).cachedFiles).toBe(0);
    expect((await run()).cachedFiles).toBe(1);
    // A key that is not 32 bytes is no key.
    await writeFile(keyFile, 'short');
    expect((await run()).cachedFiles).toBe(0);
    expect((await readFile(keyFile)).length).toBe(32);
    expect((await run()).cachedFiles).toBe(1);
  });

  it('trusts no key inside the scanned tree: a tree could bring its key and a cache made with it', async () => {
    const secret = `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`;
    await put('app.env', secret);
    const inTree = join(root, '.cache', 'custos', 'scan-cache.key'); // HOME inside the checkout
    const forged = await openScanCache(cachePath, { keyFile: inTree });
    forged.record(cacheKey('app.env', Buffer.from(secret), undefined), [], false);
    await forged.save();
    for (let i = 0; i < 2; i++) {
      const report = await run(inTree);
      expect(report.cachedFiles).toBe(0);
      expect(report.findings.map((f) => f.file)).toEqual(['app.env']);
    }
  });

  it('keeps the key in the user cache directory, private, the same from run to run', async () => {
    expect(defaultCacheKeyFile({ XDG_CACHE_HOME: '/ci/cache' })).toBe(
      '/ci/cache/custos/scan-cache.key',
    );
    // A relative XDG_CACHE_HOME is not one (the XDG specification).
    expect(defaultCacheKeyFile({ XDG_CACHE_HOME: 'cache' })).toBe(
      join(homedir(), '.cache', 'custos', 'scan-cache.key'),
    );
    expect(defaultCacheKeyFile({})).toBe(join(homedir(), '.cache', 'custos', 'scan-cache.key'));

    await put('app.env', `GITHUB_TOKEN=${checksummedToken('ghp_')}\n`);
    await run();
    const key = await readFile(keyFile);
    expect(key.length).toBe(32);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(keyFile))).mode & 0o777).toBe(0o700);
    const text = await readFile(cachePath, 'utf8');
    expect(text).not.toContain(key.toString('hex'));
    expect(text).not.toContain(key.toString('base64'));
    await run();
    expect(await readFile(keyFile)).toEqual(key);
  });
});
