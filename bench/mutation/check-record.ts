/**
 * `npm run mutation -- --check-alone [module…]`: checks the kills of runs recorded before
 * bench/mutation/stand-alone.ts was part of every run, from Stryker's incremental file (which
 * keeps each mutant's killing tests), without running Stryker again.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MutantResult } from '@stryker-mutator/api/core';
import type { MutationModule } from './modules.js';
import { digestOf, type ModuleRecord, type ModuleRun, runFromResults } from './record.js';
import type { TestId } from './stand-alone.js';

/** What this check reads of `<module>.isolated.incremental.json` (Stryker's mutation-testing report). */
interface IncrementalFile {
  readonly files: Readonly<
    Record<
      string,
      {
        readonly source: string;
        readonly mutants: readonly {
          readonly mutatorName: string;
          readonly replacement?: string;
          readonly status: MutantResult['status'];
          readonly killedBy?: readonly string[];
          readonly location: MutantResult['location'];
        }[];
      }
    >
  >;
  readonly testFiles?: Readonly<
    Record<string, { readonly tests: readonly { readonly id: string; readonly name: string }[] }>
  >;
}

/** An incremental file's results, and the files as it measured them. */
export interface IncrementalResults {
  /**
   * A directory holding each mutated file with the text the incremental file measured (a
   * comment edited since moves the mutants' lines in the repository's copy, not in this one).
   */
  readonly tree: URL;
  /** Stryker's results, each file named under {@link tree}. */
  readonly results: readonly MutantResult[];
  /** Removes {@link tree}. */
  close(): Promise<void>;
}

/**
 * The results of `<module>.isolated.incremental.json`, each kill naming its tests by vitest test
 * id (the report's own test ids mapped back through its test files); undefined when there is none.
 * Close it when done.
 */
export async function readIncremental(
  name: string,
  root: URL,
): Promise<IncrementalResults | undefined> {
  let report: IncrementalFile;
  try {
    report = JSON.parse(
      await readFile(new URL(`bench/mutation/${name}.isolated.incremental.json`, root), 'utf8'),
    ) as IncrementalFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const testIds = new Map<string, TestId>();
  for (const [file, { tests }] of Object.entries(report.testFiles ?? {}))
    for (const test of tests) testIds.set(test.id, `${file}#${test.name}`);
  const results: MutantResult[] = [];
  const treeDir = await mkdtemp(join(tmpdir(), `custos-${name}-measured-`));
  const tree = pathToFileURL(`${treeDir}/`);
  const close = () => rm(treeDir, { recursive: true, force: true });
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const copy = new URL(file, tree);
    if (!copy.pathname.startsWith(tree.pathname)) {
      await close();
      throw new Error(
        `bench/mutation/${name}.isolated.incremental.json: a file outside the repository: ${file}`,
      );
    }
    await mkdir(dirname(copy.pathname), { recursive: true });
    await writeFile(copy, source);
    for (const [index, mutant] of mutants.entries()) {
      const killedBy = mutant.killedBy?.map((id) => {
        const test = testIds.get(id);
        if (test === undefined) {
          void close();
          throw new Error(`bench/mutation/${name}.isolated.incremental.json: no test ${id}`);
        }
        return test;
      });
      results.push({
        id: `${file}#${index}`,
        fileName: copy.pathname,
        mutatorName: mutant.mutatorName,
        replacement: mutant.replacement ?? '',
        status: mutant.status,
        location: mutant.location,
        ...(killedBy === undefined ? {} : { killedBy: [...killedBy] }),
      } as MutantResult);
    }
  }
  return { tree, results, close };
}

/**
 * Why the incremental file cannot stand for `run`, or undefined when it can: for each of the
 * run's files, the incremental file measured the code the run measured, and the repository's
 * file still holds that code (comments and layout aside, as run digests go).
 */
export async function unmatched(
  run: ModuleRun,
  incremental: IncrementalResults,
  root: URL,
): Promise<string | undefined> {
  for (const file of run.files) {
    const measured = run.digests.find((d) => d.file === file)?.sha256;
    const held = await digestOf(file, incremental.tree);
    if (held === undefined) return `${file} is not in the incremental file`;
    if (held !== measured)
      return `the incremental file measured other code of ${file} than the run`;
    if ((await digestOf(file, root)) !== measured)
      return `${file} has changed since the run measured it`;
  }
  return undefined;
}

/** Counts with `Unconfirmed` folded back into `Killed`: what a run without the check recorded. */
function asUnchecked(counts: Readonly<Record<string, number>>): Record<string, number> {
  const { Unconfirmed = 0, ...rest } = counts;
  return Unconfirmed === 0 ? rest : { ...rest, Killed: (rest.Killed ?? 0) + Unconfirmed };
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => (a[key] ?? 0) === (b[key] ?? 0));
}

/** `counts` with `unconfirmed` of its kills moved to `Unconfirmed` (its keys kept in order). */
function withUnconfirmed(
  counts: Readonly<Record<string, number>>,
  unconfirmed: number,
): Record<string, number> {
  if (unconfirmed === 0) return { ...counts };
  return { ...counts, Killed: (counts.Killed ?? 0) - unconfirmed, Unconfirmed: unconfirmed };
}

/**
 * `run` with its kills checked: each kill resting only on tests of `failingAlone` counted
 * `Unconfirmed` and listed after its survivors; the rest of the run as it was. Throws when the
 * incremental file's results for the run's files are not the run's (other counts), so a record
 * is never rewritten from results it did not come from.
 */
export async function checkedRun(
  module: MutationModule,
  run: ModuleRun,
  incremental: IncrementalResults,
  failingAlone: ReadonlySet<TestId>,
): Promise<ModuleRun> {
  const fresh = await runFromResults(
    module,
    incremental.results,
    incremental.tree,
    run.files,
    failingAlone,
  );
  if (!sameCounts(asUnchecked(fresh.counts), run.counts))
    throw new Error(
      `mutation: the incremental file's results for ${run.files.join(', ')} (${JSON.stringify(asUnchecked(fresh.counts))}) are not the recorded run's (${JSON.stringify(run.counts)})`,
    );
  const unconfirmed = fresh.survivors.filter((m) => m.status === 'Unconfirmed');
  const ofFile = (file: string) => unconfirmed.filter((m) => m.file === file).length;
  return {
    ...run,
    counts: withUnconfirmed(run.counts, unconfirmed.length),
    fileCounts:
      run.fileCounts?.map((entry) => ({
        file: entry.file,
        counts: withUnconfirmed(entry.counts, ofFile(entry.file)),
      })) ??
      fresh.fileCounts ??
      [],
    survivors: [...run.survivors, ...unconfirmed],
    timeouts: run.timeouts ?? fresh.timeouts ?? [],
    ...(fresh.checkedAlone === undefined ? {} : { checkedAlone: fresh.checkedAlone }),
  };
}

/**
 * The runs of `record` that the incremental file stands for (checked before any test runs
 * alone), and why each other one is not.
 */
export async function checkableRuns(
  module: MutationModule,
  record: ModuleRecord,
  incremental: IncrementalResults,
  root: URL,
): Promise<{ checkable: ModuleRun[]; skipped: string[] }> {
  const checkable: ModuleRun[] = [];
  const skipped: string[] = [];
  for (const run of record.runs) {
    if (run.checkedAlone !== undefined) continue;
    let why = await unmatched(run, incremental, root);
    if (why === undefined) {
      const held = await runFromResults(module, incremental.results, incremental.tree, run.files);
      if (!sameCounts(held.counts, run.counts))
        why = `the incremental file holds other results (${JSON.stringify(held.counts)}) than the run (${JSON.stringify(run.counts)})`;
    }
    if (why === undefined) checkable.push(run);
    else skipped.push(`run of ${run.ranAt.slice(0, 10)}: ${why}`);
  }
  return { checkable, skipped };
}
