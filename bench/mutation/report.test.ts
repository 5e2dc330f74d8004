import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModuleRecord, ModuleRun, Survivor } from './record.js';
import { judge, renderMutationReport } from './report.js';

// How a survivor is matched to its entry in equivalents.json: a short original such as `{`
// names no place by itself, so such an entry must say what text is near the mutant.
describe('judging survivors against equivalents.json', () => {
  const FILE = 'packages/server/src/seal/seal-manager.ts';
  const SOURCE = [
    'try {',
    '  work();',
    '} finally {',
    '  key.fill(0);',
    '}',
    'if (config === undefined) {',
    '  throw new Error("not initialized");',
    '}',
  ].join('\n');
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  const block = (line: number): Survivor => ({
    status: 'Survived',
    file: FILE,
    line,
    mutator: 'BlockStatement',
    original: '{',
    replacement: '{}',
  });

  const judged = async (
    equivalents: readonly object[],
    survivors: readonly Survivor[],
    run: Partial<ModuleRun> = { isolated: true },
  ) => {
    const root = await mkdtemp(join(tmpdir(), 'custos-mutation-'));
    roots.push(root);
    await mkdir(join(root, 'bench/mutation'), { recursive: true });
    await mkdir(join(root, 'packages/server/src/seal'), { recursive: true });
    await writeFile(join(root, 'bench/mutation/equivalents.json'), JSON.stringify(equivalents));
    await writeFile(join(root, FILE), SOURCE);
    const record: ModuleRecord = {
      name: 'seal',
      runs: [
        {
          ranAt: '2026-12-05T00:00:00Z',
          machine: 'test',
          files: [FILE],
          digests: [],
          counts: { Killed: 8, Survived: survivors.length },
          survivors,
          ...run,
        },
      ],
    };
    return judge(record, pathToFileURL(`${root}/`));
  };

  const entry = { file: FILE, mutator: 'BlockStatement', original: '{', replacement: '{}' };

  it('explains only the survivor whose lines hold the entry’s near text', async () => {
    const view = await judged(
      [{ ...entry, near: 'key.fill(0);', reason: 'zeroing' }],
      [block(3), block(6)],
    );
    expect(view.equivalent.map((s) => [s.line, s.reason])).toEqual([[3, 'zeroing']]);
    expect(view.unexplained.map((s) => s.line)).toEqual([6]);
    expect(view.score).toBeCloseTo((100 * 8) / 10);
  });

  it('refuses an entry for a short original without near text', async () => {
    await expect(judged([{ ...entry, reason: 'zeroing' }], [block(3)])).rejects.toThrow(
      /needs "near"/,
    );
  });

  it('reports a run whose test files shared loaded modules as unreliable, an isolated one not', async () => {
    const sharing = await judged([], [], {});
    expect(sharing.shared).toEqual([FILE]);
    const report = renderMutationReport([sharing]);
    expect(report).toContain(
      `Measured while test files shared loaded modules, which reported mutants the tests kill as survivors (to run again): ${FILE}.`,
    );
    const isolated = await judged([], []);
    expect(isolated.shared).toEqual([]);
    expect(renderMutationReport([isolated])).not.toContain('**unreliable**');
  });

  it('says how many static mutants a run left out, one or more', async () => {
    const one = await judged([], [], { isolated: true, counts: { Killed: 8, Ignored: 1 } });
    expect(renderMutationReport([one])).toContain(
      ' 1 static mutant was not run (they count in no score).',
    );
    const two = await judged([], [], { isolated: true, counts: { Killed: 8, Ignored: 2 } });
    expect(renderMutationReport([two])).toContain(
      ' 2 static mutants were not run (they count in no score).',
    );
    const none = await judged([], [], { isolated: true, counts: { Killed: 8 } });
    expect(renderMutationReport([none])).not.toContain('static mutant');
  });

  it('lists the mutants detected by timing out, and counts those of runs that did not list them', async () => {
    const hang: Survivor = { ...block(1), status: 'Timeout' };
    const listed = await judged([], [], { isolated: true, timeouts: [hang] });
    expect(listed.timeouts).toEqual([hang]);
    expect(listed.timeoutsUnlisted).toBe(0);
    const report = renderMutationReport([listed]);
    expect(report).toContain('Detected by timing out');
    expect(report).toContain(`- \`${FILE}:1\` BlockStatement: \`{\` → \`{}\``);
    const older = await judged([], [], { isolated: true, counts: { Killed: 8, Timeout: 3 } });
    expect(older.timeouts).toEqual([]);
    expect(older.timeoutsUnlisted).toBe(3);
    expect(renderMutationReport([older])).toContain('- 3 more from runs that did not list them');
    const none = await judged([], []);
    expect(renderMutationReport([none])).not.toContain('Detected by timing out');
  });

  it('reports a run whose killing tests were not run alone as unchecked, a checked one by its unconfirmed kills', async () => {
    const unchecked = await judged([], []);
    expect(unchecked.unchecked).toEqual([FILE]);
    const report = renderMutationReport([unchecked]);
    expect(report).toContain(`Killing tests not yet run alone (to check): ${FILE}.`);
    const unconfirmed: Survivor = {
      ...block(6),
      status: 'Unconfirmed',
      killedBy: ['packages/server/src/seal/seal.test.ts#seal needs | an earlier test'],
    };
    const checked = await judged([], [unconfirmed], {
      isolated: true,
      checkedAlone: '2026-12-07T00:00:00Z',
      counts: { Killed: 9, Unconfirmed: 1 },
    });
    expect(checked.unchecked).toEqual([]);
    expect(checked.score).toBeCloseTo(90);
    expect(checked.unexplained).toEqual([unconfirmed]);
    const checkedReport = renderMutationReport([checked]);
    expect(checkedReport).toContain(
      `- \`${FILE}:6\` BlockStatement (killed only by \`packages/server/src/seal/seal.test.ts#seal needs \\| an earlier test\`, which fails alone): \`{\` → \`{}\``,
    );
    expect(checkedReport).toContain('| 10 | 9 | 0 | 0 | 0 | 1 |');
    expect(checkedReport).toContain('**not met**');
    expect(checkedReport).not.toContain('**unchecked**');
  });

  it('matches a longer original anywhere in its file without near text', async () => {
    const survivor: Survivor = {
      status: 'Survived',
      file: FILE,
      line: 7,
      mutator: 'StringLiteral',
      original: '"not initialized"',
      replacement: '""',
    };
    const view = await judged(
      [{ ...survivor, line: undefined, status: undefined, reason: 'message' }],
      [survivor],
    );
    expect(view.equivalent).toHaveLength(1);
    expect(view.unexplained).toHaveLength(0);
  });
});
