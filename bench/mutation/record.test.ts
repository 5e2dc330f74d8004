import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MutantResult } from '@stryker-mutator/api/core';
import { afterEach, describe, expect, it } from 'vitest';
import { MUTATION_MODULES } from './modules.js';
import { digestOf, mergeRun, runFromResults } from './record.js';

/** Stryker's result for a mutant of `1` on the first line of `file` (under `root`). */
const mutantResult = (root: string, file: string, status: MutantResult['status']) =>
  ({
    id: `${file}-${status}`,
    fileName: join(root, file),
    mutatorName: 'NumericLiteral',
    replacement: '0',
    status,
    location: { start: { line: 1, column: 18 }, end: { line: 1, column: 19 } },
  }) as MutantResult;

// A run's record from Stryker's results: only the files the run was asked for count.
describe('a run from Stryker results', () => {
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  const setUp = async () => {
    const root = await mkdtemp(join(tmpdir(), 'custos-mutation-'));
    roots.push(root);
    await mkdir(join(root, 'src'), { recursive: true });
    await writeFile(join(root, 'src/asked.ts'), 'export const a = 1;\n');
    await writeFile(join(root, 'src/other.ts'), 'export const b = 2;\n');
    const result = (file: string, status: MutantResult['status']) =>
      mutantResult(root, file, status);
    return { url: pathToFileURL(`${root}/`), result };
  };
  const module = MUTATION_MODULES.seal as (typeof MUTATION_MODULES)[string];

  it('leaves out files it was not asked for (carried over by the incremental report)', async () => {
    const { url, result } = await setUp();
    const results = [
      result('src/asked.ts', 'Killed'),
      result('src/asked.ts', 'Survived'),
      result('src/other.ts', 'Survived'),
    ];
    const run = await runFromResults(module, results, url, ['src/asked.ts']);
    expect(run.files).toEqual(['src/asked.ts']);
    expect(run.counts).toEqual({ Killed: 1, Survived: 1 });
    expect(run.survivors).toEqual([
      {
        status: 'Survived',
        file: 'src/asked.ts',
        line: 1,
        mutator: 'NumericLiteral',
        original: '1',
        replacement: '0',
      },
    ]);
  });

  it('takes every file when the run was given globs', async () => {
    const { url, result } = await setUp();
    const results = [result('src/asked.ts', 'Killed'), result('src/other.ts', 'Survived')];
    const run = await runFromResults(module, results, url, ['src/*.ts', '!src/x.ts']);
    expect(run.files).toEqual(['src/asked.ts', 'src/other.ts']);
    expect(run.counts).toEqual({ Killed: 1, Survived: 1 });
  });

  it('lists the mutants detected only by timing out apart from the survivors', async () => {
    const { url, result } = await setUp();
    const results = [
      result('src/asked.ts', 'Timeout'),
      result('src/asked.ts', 'NoCoverage'),
      result('src/asked.ts', 'Killed'),
    ];
    const run = await runFromResults(module, results, url, ['src/asked.ts']);
    const named = { file: 'src/asked.ts', line: 1, mutator: 'NumericLiteral', original: '1' };
    expect(run.timeouts).toEqual([{ status: 'Timeout', ...named, replacement: '0' }]);
    expect(run.survivors).toEqual([{ status: 'NoCoverage', ...named, replacement: '0' }]);
    expect(run.counts).toEqual({ Timeout: 1, NoCoverage: 1, Killed: 1 });
  });

  it('counts a kill resting only on tests that fail alone as unconfirmed, naming them', async () => {
    const { url, result } = await setUp();
    const by = (killedBy: string[]) => ({ ...result('src/asked.ts', 'Killed'), killedBy });
    const failing = new Set(['a.test.ts#needs an earlier test', 'a.test.ts#also needs it']);
    const results = [
      by(['a.test.ts#needs an earlier test']),
      by(['a.test.ts#needs an earlier test', 'a.test.ts#also needs it']),
      // One test that passes alone confirms the kill.
      by(['a.test.ts#needs an earlier test', 'a.test.ts#stands alone']),
      by(['a.test.ts#stands alone']),
      // A kill naming no test (a test file that failed to load) is not judged.
      by([]),
      result('src/asked.ts', 'Survived'),
    ];
    const run = await runFromResults(module, results, url, ['src/asked.ts'], failing);
    expect(run.counts).toEqual({ Unconfirmed: 2, Killed: 3, Survived: 1 });
    expect(run.fileCounts).toEqual([{ file: 'src/asked.ts', counts: run.counts }]);
    expect(run.survivors.map((m) => [m.status, m.killedBy])).toEqual([
      ['Unconfirmed', ['a.test.ts#needs an earlier test']],
      ['Unconfirmed', ['a.test.ts#needs an earlier test', 'a.test.ts#also needs it']],
      ['Survived', undefined],
    ]);
    expect(Date.parse(run.checkedAlone ?? '')).toBeGreaterThan(Date.parse('2026-12-01'));
    const unchecked = await runFromResults(module, results, url, ['src/asked.ts']);
    expect(unchecked.counts).toEqual({ Killed: 5, Survived: 1 });
    expect(unchecked.checkedAlone).toBeUndefined();
  });
});

describe('a run added to a module record', () => {
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });
  const module = MUTATION_MODULES.seal as (typeof MUTATION_MODULES)[string];

  /** A run over src/a.ts and src/b.ts (a: killed and survived; b: timeout, killed, ignored). */
  const runs = async () => {
    const root = await mkdtemp(join(tmpdir(), 'custos-mutation-'));
    roots.push(root);
    await mkdir(join(root, 'src'), { recursive: true });
    for (const name of ['a', 'b'])
      await writeFile(join(root, `src/${name}.ts`), 'export const a = 1;\n');
    const result = (file: string, status: MutantResult['status']) =>
      mutantResult(root, file, status);
    const url = pathToFileURL(`${root}/`);
    const both = await runFromResults(
      module,
      [
        result('src/a.ts', 'Killed'),
        result('src/a.ts', 'Survived'),
        result('src/b.ts', 'Timeout'),
        result('src/b.ts', 'Killed'),
        result('src/b.ts', 'Ignored'),
      ],
      url,
      ['src/a.ts', 'src/b.ts'],
    );
    const aAgain = await runFromResults(module, [result('src/a.ts', 'Killed')], url, ['src/a.ts']);
    return { both, aAgain };
  };

  it('replaces the results of its files only, keeping the rest of an earlier run', async () => {
    const { both, aAgain } = await runs();
    expect(both.fileCounts).toEqual([
      { file: 'src/a.ts', counts: { Killed: 1, Survived: 1 } },
      { file: 'src/b.ts', counts: { Timeout: 1, Killed: 1, Ignored: 1 } },
    ]);
    const { record, dropped } = mergeRun('seal', { name: 'seal', runs: [both] }, aAgain);
    expect(dropped).toEqual([]);
    const [rest, added] = record.runs;
    expect(added).toBe(aAgain);
    expect(rest).toMatchObject({
      ranAt: both.ranAt,
      files: ['src/b.ts'],
      digests: both.digests.filter((digest) => digest.file === 'src/b.ts'),
      counts: { Timeout: 1, Killed: 1, Ignored: 1 },
      fileCounts: [{ file: 'src/b.ts', counts: { Timeout: 1, Killed: 1, Ignored: 1 } }],
      survivors: [],
    });
    expect(rest?.timeouts?.map((m) => m.file)).toEqual(['src/b.ts']);
    // Run over every file of the earlier run: nothing of it is left.
    const bAgain = { ...aAgain, files: ['src/a.ts', 'src/b.ts'] };
    expect(mergeRun('seal', { name: 'seal', runs: [both] }, bAgain).record.runs).toEqual([bAgain]);
  });

  it('drops an earlier run kept without counts by file whole, naming its other files', async () => {
    const { both, aAgain } = await runs();
    const { fileCounts: _, ...old } = both;
    const { record, dropped } = mergeRun('seal', { name: 'seal', runs: [old] }, aAgain);
    expect(record.runs).toEqual([aAgain]);
    expect(dropped).toEqual(['src/b.ts']);
  });
});

describe('the digest a run keeps of each file', () => {
  it('changes with the code, not with comments or layout', async () => {
    const root = await mkdtemp(join(tmpdir(), 'custos-mutation-digest-'));
    try {
      const url = pathToFileURL(`${root}/`);
      const digest = async (text: string) => {
        await writeFile(join(root, 'a.ts'), text);
        return digestOf('a.ts', url);
      };
      const base = await digest('export const a = (x: number) => x + 1;\n');
      expect(
        await digest('/** Adds one. */\nexport const a = (x: number) =>\n  // the sum\n  x + 1;\n'),
      ).toBe(base);
      for (const changed of [
        'export const a = (x: number) => x - 1;\n',
        'export const a = (x: string) => x + 1;\n',
        // A template literal that holds what looks like a comment is code.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a source file
        'export const a = (x: number) => `${x}// + 1`;\n',
      ])
        expect(await digest(changed), changed).not.toBe(base);
      expect(await digestOf('missing.ts', url)).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
