import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isUnconfirmed,
  killingTests,
  namePattern,
  testOfId,
  testsFailingAlone,
} from './stand-alone.js';

// Stryker runs only the tests that cover a mutant: a test that needs an earlier test of its
// file fails that way with or without the mutant, and the failure counts as a kill.
describe('killing tests run alone', () => {
  it('names the file and full name of a vitest test id, a # in the name included', () => {
    expect(testOfId('packages/a/x.test.ts#suite a #1 case')).toEqual({
      file: 'packages/a/x.test.ts',
      name: 'suite a #1 case',
    });
    expect(() => testOfId('no file')).toThrow(/not a vitest test id/);
    expect(() => testOfId('#name only')).toThrow(/not a vitest test id/);
  });

  it('counts the kills of each test, whatever else killed the same mutant', () => {
    const tests = killingTests([
      { status: 'Killed', killedBy: ['f#a'] },
      { status: 'Killed', killedBy: ['f#a', 'f#b'] },
      { status: 'Survived', killedBy: ['f#c'] },
      { status: 'Timeout' },
    ]);
    expect([...tests]).toEqual([
      ['f#a', 2],
      ['f#b', 1],
    ]);
  });

  it('calls a kill unconfirmed only when every test that made it fails alone', () => {
    const failing = new Set(['f#a', 'f#b']);
    expect(isUnconfirmed({ status: 'Killed', killedBy: ['f#a', 'f#b'] }, failing)).toBe(true);
    expect(isUnconfirmed({ status: 'Killed', killedBy: ['f#a', 'f#ok'] }, failing)).toBe(false);
    expect(isUnconfirmed({ status: 'Killed', killedBy: [] }, failing)).toBe(false);
    expect(isUnconfirmed({ status: 'Killed' }, failing)).toBe(false);
    expect(isUnconfirmed({ status: 'Timeout', killedBy: ['f#a'] }, failing)).toBe(false);
  });

  it('matches a test’s full name exactly, whatever characters it holds', () => {
    const name = 'refuses a.b (a [x] | y*) $1 ^ {2} \\ + ?';
    const pattern = new RegExp(namePattern(name));
    expect(pattern.test(name)).toBe(true);
    expect(pattern.test(`${name} and more`)).toBe(false);
    expect(pattern.test(`more ${name}`)).toBe(false);
    expect(pattern.test(name.replace('.', 'x'))).toBe(false);
  });

  describe('in vitest processes of their own', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'custos-alone-test-'));
      // No import of vitest from a directory without node_modules: its globals instead.
      await writeFile(
        join(dir, 'vitest.config.mjs'),
        "export default { test: { include: ['*.check.mjs'], globals: true } };\n",
      );
      await writeFile(
        join(dir, 'order.check.mjs'),
        [
          'let made = false;',
          "describe('a file', () => {",
          "  test('makes a thing', () => { made = true; });",
          "  test('needs the thing', () => { expect(made).toBe(true); });",
          "  test('stands (alone) [really]', () => { expect(1).toBe(1); });",
          '});',
          "test('top level', () => { expect(made).toBe(false); });",
          '',
        ].join('\n'),
      );
      await writeFile(
        join(dir, 'broken.check.mjs'),
        "throw new Error('the file fails to load');\ntest('never runs', () => {});\n",
      );
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('finds the tests that need an earlier one, and those that are gone or cannot load', async () => {
      const seen: [string, string][] = [];
      const failing = await testsFailingAlone(
        [
          'order.check.mjs#a file makes a thing',
          'order.check.mjs#a file needs the thing',
          'order.check.mjs#a file stands (alone) [really]',
          'order.check.mjs#top level',
          'order.check.mjs#a file renamed since',
          'broken.check.mjs#never runs',
          'order.check.mjs#top level',
        ],
        {
          root: pathToFileURL(`${dir}/`),
          config: 'vitest.config.mjs',
          concurrency: 2,
          onResult: (id, outcome) => seen.push([id, outcome]),
        },
      );
      expect([...failing].sort()).toEqual([
        'broken.check.mjs#never runs',
        'order.check.mjs#a file needs the thing',
        'order.check.mjs#a file renamed since',
      ]);
      expect(seen.sort()).toEqual([
        ['broken.check.mjs#never runs', 'failed'],
        ['order.check.mjs#a file makes a thing', 'passed'],
        ['order.check.mjs#a file needs the thing', 'failed'],
        ['order.check.mjs#a file renamed since', 'missing'],
        ['order.check.mjs#a file stands (alone) [really]', 'passed'],
        ['order.check.mjs#top level', 'passed'],
      ]);
    });
  });
});
