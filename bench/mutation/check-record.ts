/**
 * `npm run mutation -- --check-alone [module…]`: checks the kills of runs recorded before
 * bench/mutation/stand-alone.ts was part of every run, from Stryker's incremental file (which
 * keeps each mutant's killing tests), without running Stryker again.
 */
import { readFile } from 'node:fs/promises';
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

/** A file's results as the incremental file holds them, and its text when they were made. */
export interface IncrementalResults {
  readonly results: readonly MutantResult[];
  readonly sources: ReadonlyMap<string, string>;
}

/**
 * The results of `<module>.isolated.incremental.json`, each kill naming its tests by vitest test
 * id (the report's own test ids mapped back through its test files); undefined when there is none.
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
  const sources = new Map<string, string>();
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    sources.set(file, source);
    for (const [index, mutant] of mutants.entries()) {
      const killedBy = mutant.killedBy?.map((id) => {
        const test = testIds.get(id);
        if (test === undefined)
          throw new Error(`bench/mutation/${name}.isolated.incremental.json: no test ${id}`);
        return test;
      });
      results.push({
        id: `${file}#${index}`,
        fileName: new URL(file, root).pathname,
        mutatorName: mutant.mutatorName,
        replacement: mutant.replacement ?? '',
        status: mutant.status,
        location: mutant.location,
        ...(killedBy === undefined ? {} : { killedBy: [...killedBy] }),
      } as MutantResult);
    }
  }
  return { results, sources };
}

/**
 * Why the incremental file cannot stand for `run`, or undefined when it can: each of the run's
 * files must be, byte for byte, the text the incremental file measured (so its mutants' places
 * are the file's) and the code the run measured.
 */
export async function unmatched(
  run: ModuleRun,
  incremental: IncrementalResults,
  root: URL,
): Promise<string | undefined> {
  for (const file of run.files) {
    const source = incremental.sources.get(file);
    const current = await readFile(new URL(file, root), 'utf8').catch(() => undefined);
    if (source === undefined || source !== current)
      return `${file} is not the text the incremental file measured`;
    const measured = run.digests.find((d) => d.file === file)?.sha256;
    if (measured !== (await digestOf(file, root)))
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

/**
 * `run` with its kills checked: each kill resting only on tests of `failingAlone` counted
 * `Unconfirmed`. Throws when the incremental file's results for the run's files are not the
 * run's (other counts), so a record is never rewritten from results it did not come from.
 */
export async function checkedRun(
  module: MutationModule,
  run: ModuleRun,
  incremental: IncrementalResults,
  root: URL,
  failingAlone: ReadonlySet<TestId>,
): Promise<ModuleRun> {
  const fresh = await runFromResults(module, incremental.results, root, run.files, failingAlone);
  if (!sameCounts(asUnchecked(fresh.counts), run.counts))
    throw new Error(
      `mutation: the incremental file's results for ${run.files.join(', ')} (${JSON.stringify(asUnchecked(fresh.counts))}) are not the recorded run's (${JSON.stringify(run.counts)})`,
    );
  return {
    ...run,
    counts: fresh.counts,
    fileCounts: fresh.fileCounts ?? [],
    survivors: fresh.survivors,
    timeouts: fresh.timeouts ?? [],
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
      const held = await runFromResults(module, incremental.results, root, run.files);
      if (!sameCounts(held.counts, run.counts))
        why = `the incremental file holds other results (${JSON.stringify(held.counts)}) than the run (${JSON.stringify(run.counts)})`;
    }
    if (why === undefined) checkable.push(run);
    else skipped.push(`run of ${run.ranAt.slice(0, 10)}: ${why}`);
  }
  return { checkable, skipped };
}
