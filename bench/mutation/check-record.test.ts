import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkableRuns, checkedRun, readIncremental } from './check-record.js';
import { MUTATION_MODULES } from './modules.js';
import { digestOf, type ModuleRun } from './record.js';

// Runs recorded before killing tests were run alone are checked from Stryker's incremental file.
describe('checking a recorded run from its incremental file', () => {
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });
  const module = MUTATION_MODULES.seal as (typeof MUTATION_MODULES)[string];
  const SOURCE = 'export const a = 1;\nexport const b = 2;\n';
  const at = (line: number) => ({
    start: { line, column: 18 },
    end: { line, column: 19 },
  });

  const survived = {
    status: 'Survived',
    file: 'src/a.ts',
    line: 2,
    mutator: 'NumericLiteral',
    original: '2',
    replacement: '9',
  };
  const unconfirmedAt = (line: number) => ({
    status: 'Unconfirmed',
    file: 'src/a.ts',
    line,
    mutator: 'NumericLiteral',
    original: '1',
    replacement: '0',
    killedBy: ['src/a.test.ts#a needs an earlier test'],
  });

  /** A repository with src/a.ts, its incremental file and the run that recorded it. */
  const setUp = async () => {
    const root = await mkdtemp(join(tmpdir(), 'custos-mutation-'));
    roots.push(root);
    await mkdir(join(root, 'src'), { recursive: true });
    await mkdir(join(root, 'bench/mutation'), { recursive: true });
    await writeFile(join(root, 'src/a.ts'), SOURCE);
    const incremental = {
      files: {
        'src/a.ts': {
          source: SOURCE,
          mutants: [
            {
              mutatorName: 'NumericLiteral',
              replacement: '0',
              status: 'Killed',
              killedBy: ['0'],
              location: at(1),
            },
            {
              mutatorName: 'NumericLiteral',
              replacement: '0',
              status: 'Killed',
              killedBy: ['1'],
              location: at(2),
            },
            {
              mutatorName: 'NumericLiteral',
              replacement: '9',
              status: 'Survived',
              location: at(2),
            },
          ],
        },
      },
      testFiles: {
        'src/a.test.ts': {
          tests: [
            { id: '0', name: 'a needs an earlier test' },
            { id: '1', name: 'a stands alone' },
          ],
        },
      },
    };
    await writeFile(
      join(root, 'bench/mutation/seal.isolated.incremental.json'),
      JSON.stringify(incremental),
    );
    const url = pathToFileURL(`${root}/`);
    const run: ModuleRun = {
      ranAt: '2026-12-05T00:00:00Z',
      machine: 'test',
      files: ['src/a.ts'],
      digests: [{ file: 'src/a.ts', sha256: (await digestOf('src/a.ts', url)) ?? '' }],
      counts: { Killed: 2, Survived: 1 },
      survivors: [survived],
      isolated: true,
    };
    return { root, url, run };
  };

  it('names each kill’s tests by file and name, and rewrites the run with its unconfirmed kills', async () => {
    const { url, run } = await setUp();
    const incremental = await readIncremental('seal', url);
    expect(incremental?.results.map((r) => [r.status, r.killedBy])).toEqual([
      ['Killed', ['src/a.test.ts#a needs an earlier test']],
      ['Killed', ['src/a.test.ts#a stands alone']],
      ['Survived', undefined],
    ]);
    if (incremental === undefined) throw new Error('no incremental file read');
    const { checkable, skipped } = await checkableRuns(
      module,
      { name: 'seal', runs: [run] },
      incremental,
      url,
    );
    expect(checkable).toEqual([run]);
    expect(skipped).toEqual([]);
    const failing = new Set(['src/a.test.ts#a needs an earlier test']);
    const checked = await checkedRun(module, run, incremental, failing);
    expect(checked.counts).toEqual({ Unconfirmed: 1, Killed: 1, Survived: 1 });
    // The run's survivors as they were, then the unconfirmed kills.
    expect(checked.survivors).toEqual([survived, unconfirmedAt(1)]);
    expect(checked.ranAt).toBe(run.ranAt);
    expect(checked.checkedAlone).toBeDefined();
    // A checked run is not checked again.
    const again = await checkableRuns(module, { name: 'seal', runs: [checked] }, incremental, url);
    expect(again).toEqual({ checkable: [], skipped: [] });
    // Nothing failing alone: the run as it was, checked.
    const clean = await checkedRun(module, run, incremental, new Set());
    expect(clean).toEqual({
      ...run,
      timeouts: [],
      fileCounts: clean.fileCounts,
      checkedAlone: clean.checkedAlone,
    });
    expect(clean.counts).toEqual(run.counts);
    await incremental.close();
  });

  it('checks a run whose file has had comments edited since, naming mutants by the lines measured', async () => {
    const { root, url, run } = await setUp();
    await writeFile(join(root, 'src/a.ts'), `// moved\n${SOURCE}`);
    const incremental = await readIncremental('seal', url);
    if (incremental === undefined) throw new Error('no incremental file read');
    const { checkable } = await checkableRuns(
      module,
      { name: 'seal', runs: [run] },
      incremental,
      url,
    );
    expect(checkable).toEqual([run]);
    const failing = new Set(['src/a.test.ts#a needs an earlier test']);
    const checked = await checkedRun(module, run, incremental, failing);
    expect(checked.survivors).toEqual([survived, unconfirmedAt(1)]);
    await incremental.close();
  });

  it('refuses a run whose file changed since, or whose counts the incremental file does not hold', async () => {
    const { root, url, run } = await setUp();
    const incremental = await readIncremental('seal', url);
    if (incremental === undefined) throw new Error('no incremental file read');
    await expect(
      checkedRun(module, { ...run, counts: { Killed: 3 } }, incremental, new Set()),
    ).rejects.toThrow(/are not the recorded run's/);
    const other = { ...run, counts: { Killed: 3 } };
    expect(
      (await checkableRuns(module, { name: 'seal', runs: [other] }, incremental, url)).skipped,
    ).toEqual([
      'run of 2026-12-05: the incremental file holds other results ({"Killed":2,"Survived":1}) than the run ({"Killed":3})',
    ]);
    // The code changed since the run (and the incremental file) measured it.
    await writeFile(join(root, 'src/a.ts'), SOURCE.replace('2', '5'));
    expect(
      (await checkableRuns(module, { name: 'seal', runs: [run] }, incremental, url)).skipped,
    ).toEqual(['run of 2026-12-05: src/a.ts has changed since the run measured it']);
    // The run measured the code as it is now; the incremental file, other code (a later run's).
    const current = (await digestOf('src/a.ts', url)) ?? '';
    const later = { ...run, digests: [{ file: 'src/a.ts', sha256: current }] };
    expect(
      (await checkableRuns(module, { name: 'seal', runs: [later] }, incremental, url)).skipped,
    ).toEqual([
      'run of 2026-12-05: the incremental file measured other code of src/a.ts than the run',
    ]);
    const absent = { ...run, files: ['src/b.ts'] };
    expect(
      (await checkableRuns(module, { name: 'seal', runs: [absent] }, incremental, url)).skipped,
    ).toEqual(['run of 2026-12-05: src/b.ts is not in the incremental file']);
    await incremental.close();
  });

  it('reads no incremental file as none, and refuses one naming a test it does not list', async () => {
    const { root, url } = await setUp();
    expect(await readIncremental('tokens', url)).toBeUndefined();
    await writeFile(
      join(root, 'bench/mutation/seal.isolated.incremental.json'),
      JSON.stringify({
        files: {
          'src/a.ts': {
            source: SOURCE,
            mutants: [{ mutatorName: 'X', status: 'Killed', killedBy: ['7'], location: at(1) }],
          },
        },
        testFiles: {},
      }),
    );
    await expect(readIncremental('seal', url)).rejects.toThrow(/no test 7/);
  });
});
