import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
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
  it('scans a file at the cache’s place that this user’s key did not write, and keeps it', async () => {
    // A committed file at the default place, holding a secret: not skipped as "the cache".
    const token = checksummedToken('ghp_');
    await put('.custos-scan-cache', `GITHUB_TOKEN=${token}\n`);
    const cache = await openScanCache(cachePath, { keyFile });
    expect(cache.trusted).toBe(false);
    const report = await scanPaths(['.'], { root, gitignore: false, cache });
    expect(report.findings.map((f) => f.file)).toEqual(['.custos-scan-cache']);
    await expect(cache.save()).rejects.toMatchObject({ code: 'ERR_SCAN_CACHE' });
    expect(await readFile(cachePath, 'utf8')).toBe(`GITHUB_TOKEN=${token}\n`);
    // A cache this user's key wrote is the cache: left out of the scan.
    await rm(cachePath);
    await put('app.env', `GITHUB_TOKEN=${token}\n`);
    await run();
    const again = await openScanCache(cachePath, { keyFile });
    expect(again.trusted).toBe(true);
    const files = (await scanPaths(['.'], { root, gitignore: false, cache: again })).findings;
    expect(files.map((f) => f.file)).toEqual(['app.env']);
  });

  it('writes through no link planted where its temporary files go', async () => {
    const victim = join(outside, 'victim.txt');
    await writeFile(victim, 'keep me\n');
    // Every name the old scheme could pick (process ids), linked to the victim.
    for (let pid = process.pid - 2; pid <= process.pid + 2; pid++) {
      await symlink(victim, `${cachePath}.${pid}.tmp`);
      await symlink(victim, `${keyFile}.${pid}.tmp`).catch(() => {});
    }
    await put('app.env', 'A=1\n');
    await run();
    expect(await readFile(victim, 'utf8')).toBe('keep me\n');
    expect((await stored()).format).toMatch(/^custos-scan-cache\//);
  });

  it('trusts no key that lies in the scanned tree, even reached through a link', async () => {
    const token = checksummedToken('ghp_');
    await put('app.env', `GITHUB_TOKEN=${token}\n`);
    // A key and a cache made inside the tree (as a pull request could ship them)...
    const inTree = join(root, '.cache', 'custos', 'scan-cache.key');
    await run(inTree);
    const shipped = await stored();
    for (const key of Object.keys(shipped.entries)) shipped.entries[key] = [];
    const mac = createHmac('sha256', await readFile(inTree))
      .update(`${shipped.format}\n${shipped.scanner}\n${JSON.stringify(shipped.entries)}`)
      .digest('hex');
    await writeFile(cachePath, JSON.stringify({ ...shipped, mac }));
    // ...named through a link from outside it.
    const link = join(outside, 'link');
    await symlink(root, link);
    const viaLink = join(link, '.cache', 'custos', 'scan-cache.key');
    const cache = await openScanCache(cachePath, { keyFile: viaLink });
    const report = await scanPaths(['.'], { root, gitignore: false, cache });
    expect(report.findings.map((f) => f.file)).toEqual(['app.env']);
  });
});
