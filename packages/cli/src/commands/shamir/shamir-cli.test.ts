/**
 * `custos shamir split|combine` through the real binary: lines on stdout and files with
 * --out-dir, QR codes, any t of n rebuilding the key byte for byte, and every bad set (too few,
 * repeated, mixed, mistyped) refused by name with exit 2, no output file, and no secret echoed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

describe('custos shamir', { timeout: 60_000 }, () => {
  let dir: string;
  let n = 0;
  const path = (name: string) => join(dir, `${n++}-${name}`);
  const canary = `CANARY-shamir-cli-${randomBytes(6).toString('hex')}`;
  let keyFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-shamir-'));
    keyFile = path('secret');
    await writeFile(keyFile, canary, { mode: 0o600 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function split(t: number, total: number): Promise<string[]> {
    const result = await custos([
      'shamir',
      'split',
      '-t',
      `${t}`,
      '-n',
      `${total}`,
      '--in',
      keyFile,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain(canary);
    return result.stdout.trim().split('\n');
  }

  it('split prints one share per line; any 3 of 5 on stdin rebuild the secret', async () => {
    const lines = await split(3, 5);
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^custos-share1\.[0-9a-f]{16}\.3-of-5\.\d\./);
    const out = path('rebuilt');
    const result = await custos(['shamir', 'combine', '-o', out], {
      stdin: `# from the safe\n${lines[4]}\n\n${lines[0]}\n${lines[2]}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(canary);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
  });

  it('--out-dir writes 0600 share files (with --qr, a QR code under the line) that combine reads', async () => {
    const outDir = path('shares');
    const result = await custos([
      'shamir',
      'split',
      '-t',
      '2',
      '-n',
      '3',
      '--in',
      keyFile,
      '--out-dir',
      outDir,
      '--qr',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const files = (await readdir(outDir)).sort();
    expect(files).toEqual(['share-1-of-3.txt', 'share-2-of-3.txt', 'share-3-of-3.txt']);
    const first = await readFile(join(outDir, files[0] as string), 'utf8');
    expect(first).toMatch(/^custos-share1\..*\n\n[\s█▀▄]+$/);
    expect((await stat(join(outDir, files[0] as string))).mode & 0o777).toBe(0o600);
    const combined = await custos([
      'shamir',
      'combine',
      join(outDir, files[2] as string),
      join(outDir, files[0] as string),
    ]);
    expect(combined.code, combined.stderr).toBe(0);
    expect(combined.stdout).toBe(canary);
    const again = await custos([
      'shamir',
      'split',
      '-t',
      '2',
      '-n',
      '3',
      '--in',
      keyFile,
      '--out-dir',
      outDir,
    ]);
    expect(again.code).toBe(2);
  });

  it('too few, repeated, mixed-up and mistyped shares: exit 2, named, nothing written, no secret', async () => {
    const a = await split(3, 5);
    const b = await split(3, 5);
    const [a1, a2, a3] = a as [string, string, string];
    const at = a3.length - 15;
    const typo = `${a3.slice(0, at)}${a3[at] === 'x' ? 'y' : 'x'}${a3.slice(at + 1)}`;
    const cases: Array<[string, RegExp]> = [
      [`${a1}\n${a2}\n`, /needs 3 of its 5 shares; 2 given.*ERR_SHARES_TOO_FEW/],
      [`${a1}\n${a2}\n${a2}\n`, /line 3 of standard input is share \d again.*ERR_SHARE_DUPLICATE/],
      [
        `${a1}\n${a2}\n${b[2]}\n`,
        /different splits.*line 3 of standard input \(set [0-9a-f]{16}\).*ERR_SHARES_MIXED/,
      ],
      [
        `${a1}\n${a2}\n${typo}\n`,
        /line 3 of standard input fails its checksum.*ERR_SHARE_MALFORMED/,
      ],
    ];
    for (const [stdin, message] of cases) {
      const out = path('out');
      const result = await custos(['shamir', 'combine', '-o', out], { stdin });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(canary);
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('refuses a secret file others may read, and impossible thresholds', async () => {
    const open = path('open');
    await writeFile(open, 'x', { mode: 0o644 });
    const insecure = await custos(['shamir', 'split', '-t', '2', '-n', '3', '--in', open]);
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toMatch(/ERR_INSECURE_FILE/);
    const bad = await custos(['shamir', 'split', '-t', '4', '-n', '3', '--in', keyFile]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/threshold ≤ shares/);
  });
});
