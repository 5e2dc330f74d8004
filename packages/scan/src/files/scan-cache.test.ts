import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomString } from '../../test/generate.js';
import { fingerprintSecret } from '../engine/fingerprint.js';
import { patternRule } from '../rules/rule.js';
import { openScanCache } from './scan-cache.js';
import { scanPaths } from './scan-paths.js';

const stripeKey = () => `sk_live_${randomString(24)}`;

describe('the scan cache', () => {
  let root: string;
  let cachePath: string;
  const put = async (path: string, content: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  /** One run as CI would make it: open the cache, scan, save. */
  const run = async (options: Parameters<typeof scanPaths>[1] = {}) => {
    const cache = await openScanCache(cachePath, { keyFile: join(dirname(cachePath), 'key') });
    const report = await scanPaths(['.'], { root, gitignore: false, ...options, cache });
    await cache.save();
    return report;
  };
  const places = (report: Awaited<ReturnType<typeof run>>) =>
    report.findings.map((f) => `${f.file}:${f.line}:${f.rule}:${f.confidence}`);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'custos-scan-cache-'));
    cachePath = join(await mkdtemp(join(tmpdir(), 'custos-scan-cache-file-')), 'sub', 'scan.json');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(dirname(dirname(cachePath)), { recursive: true, force: true });
  });

  it('scans only changed content on the next run, with the same findings', async () => {
    for (let i = 0; i < 20; i++)
      await put(`f${i}.env`, i % 5 === 0 ? `KEY=${stripeKey()}\n` : 'A=1\n');
    const first = await run();
    expect(first.cachedFiles).toBe(0);
    const second = await run();
    expect(second.cachedFiles).toBe(20);
    expect(places(second)).toEqual(places(first));
    expect(second.findings).toEqual(first.findings);

    await put('f1.env', `KEY=${stripeKey()}\n`); // a new secret in a file that was clean
    const third = await run();
    expect(third.cachedFiles).toBe(19);
    expect(places(third)).toContain('f1.env:1:stripe-secret-key:high');
  });

  it('applies the baseline, allowlist and confidence threshold of each run to cached findings', async () => {
    const secret = stripeKey();
    await put('app.env', `KEY=${secret}\n`);
    await put('test/fixtures/keys.env', `KEY=${stripeKey()}\n`);
    expect(places(await run())).toEqual([
      'app.env:1:stripe-secret-key:high',
      'test/fixtures/keys.env:1:stripe-secret-key:medium',
    ]);
    const baselined = await run({ baseline: new Set([fingerprintSecret(secret)]) });
    expect(baselined.cachedFiles).toBe(2);
    expect(places(baselined)).toEqual(['test/fixtures/keys.env:1:stripe-secret-key:medium']);
    const sure = await run({ minConfidence: 'high' });
    expect(places(sure)).toEqual(['app.env:1:stripe-secret-key:high']);
    const allowlisted = await run({ allowlist: { rules: ['stripe-secret-key'] } });
    expect(allowlisted.findings).toEqual([]);
    // Filters never change what is cached: without them, everything is back.
    expect(places(await run())).toHaveLength(2);
  });

  it('keys entries by name too: the same content under a fixture path is judged as a fixture', async () => {
    const content = `KEY=${stripeKey()}\n`;
    await put('app.env', content);
    await run();
    await put('test/fixtures/app.env', content);
    const report = await run();
    expect(report.cachedFiles).toBe(1);
    expect(places(report)).toEqual([
      'app.env:1:stripe-secret-key:high',
      'test/fixtures/app.env:1:stripe-secret-key:medium',
    ]);
  });

  it('keys entries by fingerprint key: findings made under another key are not reused', async () => {
    await put('app.env', `KEY=${stripeKey()}\n`);
    const first = await run({ fingerprintKey: 'one' });
    const second = await run({ fingerprintKey: 'two' });
    expect(second.cachedFiles).toBe(0);
    expect(second.findings[0]?.fingerprint).not.toBe(first.findings[0]?.fingerprint);
  });

  it('never caches the findings of custom rules', async () => {
    await put('a.txt', `acme_${randomBytes(16).toString('hex')}\n`);
    const rules = [
      patternRule({
        id: 'acme',
        description: 'acme',
        source: 'x',
        keywords: ['acme_'],
        confidence: 'high',
        pattern: /\bacme_(?<secret>[0-9a-f]{32})\b/g,
      }),
    ];
    await run({ rules });
    const again = await run({ rules });
    expect(again.cachedFiles).toBe(0);
    expect(again.findings.map((f) => f.rule)).toEqual(['acme']);
  });

  it('holds no secret value, is private to its owner, and only what the last run used', async () => {
    const secret = stripeKey();
    await put('app.env', `KEY=${secret}\n`);
    await put('gone.env', `KEY=${stripeKey()}\n`);
    await run();
    await rm(join(root, 'gone.env'));
    await run();
    const text = await readFile(cachePath, 'utf8');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(8, 20));
    expect(Object.keys(JSON.parse(text).entries)).toHaveLength(1);
    expect((await stat(cachePath)).mode & 0o777).toBe(0o600);
  });

  it('starts empty from a missing, damaged, foreign or differently built cache file', async () => {
    await put('app.env', `KEY=${stripeKey()}\n`);
    await run();
    const stored = JSON.parse(await readFile(cachePath, 'utf8'));
    for (const damaged of [
      JSON.stringify({ ...stored, scanner: 'another build' }),
      JSON.stringify({ ...stored, format: 'custos-scan-cache/0' }),
      JSON.stringify({ ...stored, entries: [] }),
    ]) {
      await writeFile(cachePath, damaged);
      const report = await run();
      expect(report.cachedFiles).toBe(0);
      expect(report.findings).toHaveLength(1);
    }
    // What is no scan cache at all is read as none, and never overwritten: it may be a file
    // of the user's at a mistaken --cache-location.
    for (const other of ['{"format": "custos-scan-cache/1", "entri', 'null', 'KEY=value\n']) {
      await writeFile(cachePath, other);
      const cache = await openScanCache(cachePath, { keyFile: join(dirname(cachePath), 'key') });
      const report = await scanPaths(['.'], { root, gitignore: false, cache });
      expect(report.cachedFiles).toBe(0);
      expect(report.findings).toHaveLength(1);
      await expect(cache.save()).rejects.toMatchObject({
        code: 'ERR_SCAN_CACHE',
        message: `cannot write the scan cache ${cachePath}: a file that is no scan cache is there (choose another --cache-location)`,
      });
      expect(await readFile(cachePath, 'utf8')).toBe(other);
    }
    await writeFile(cachePath, JSON.stringify(stored));
    // An entry that is not a list of findings is not trusted either.
    const key = Object.keys(stored.entries)[0] as string;
    await writeFile(cachePath, JSON.stringify({ ...stored, entries: { [key]: { x: 1 } } }));
    expect((await run()).findings).toHaveLength(1);
  });
});
