import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hex } from '../../test/generate.js';
import { parseBaseline, readBaseline } from './baseline.js';

describe('parseBaseline', () => {
  it('reads the fingerprints of a JSON report, ignoring entries without a string fingerprint', () => {
    const [a, b] = [hex(32), hex(32)];
    const report = JSON.stringify({
      findings: [
        { rule: 'jwt', fingerprint: a },
        { fingerprint: 7 },
        null,
        { rule: 'no fingerprint' },
        b,
        { fingerprint: a },
      ],
    });
    expect(parseBaseline(report)).toEqual(new Set([a, b]));
  });

  it('reads a plain array of fingerprints, and an empty one', () => {
    const [a, b] = [hex(32), hex(32)];
    expect(parseBaseline(JSON.stringify([a, 3, b, false]))).toEqual(new Set([a, b]));
    expect(parseBaseline('[]')).toEqual(new Set());
    expect(parseBaseline('{"findings":[]}')).toEqual(new Set());
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseBaseline('{"findings": [')).toThrow(
      expect.objectContaining({
        code: 'ERR_SCAN_CONFIG',
        message: 'the baseline is not valid JSON',
      }),
    );
  });

  it.each([
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"abc"'],
    ['an object without findings', '{"results":[]}'],
    ['findings that are not an array', '{"findings":{"0":"abc"}}'],
  ])('refuses %s', (_what, json) => {
    expect(() => parseBaseline(json)).toThrow(
      expect.objectContaining({
        code: 'ERR_SCAN_CONFIG',
        message: 'a baseline is a JSON report ({"findings":[…]}) or an array of fingerprints',
      }),
    );
  });
});

describe('readBaseline', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-baseline-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a baseline file', async () => {
    const fingerprint = hex(32);
    const path = join(dir, 'baseline.json');
    await writeFile(path, JSON.stringify({ findings: [{ fingerprint }] }));
    expect(await readBaseline(path)).toEqual(new Set([fingerprint]));
  });

  it('refuses a file that cannot be read, naming it', async () => {
    const path = join(dir, 'missing.json');
    await expect(readBaseline(path)).rejects.toMatchObject({
      code: 'ERR_SCAN_CONFIG',
      message: `the baseline ${path} cannot be read`,
    });
  });

  it('refuses a file that is not JSON', async () => {
    const path = join(dir, 'baseline.json');
    await writeFile(path, 'not json');
    await expect(readBaseline(path)).rejects.toMatchObject({
      code: 'ERR_SCAN_CONFIG',
      message: `${path}: the baseline is not valid JSON`,
    });
  });
});
