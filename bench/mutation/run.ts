/**
 * `npm run mutation [module…]`: mutation-tests the security-critical modules with StrykerJS and
 * rewrites bench/MUTATION.md from the per-module records in bench/mutation/<module>.json
 * (bench/mutation/record.ts).
 * Incremental: a rerun tests only the mutants whose code or tests changed
 * (bench/mutation/<module>.isolated.incremental.json, committed so that a fresh clone reuses it).
 * After each run, every test that killed a mutant runs alone against the unmutated code
 * (bench/mutation/stand-alone.ts); `--check-alone [module…]` does that for the runs recorded
 * before, from their incremental files, without running Stryker.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MutantResult } from '@stryker-mutator/api/core';
import { Stryker } from '@stryker-mutator/core';
import { checkableRuns, checkedRun, readIncremental } from './check-record.js';
import { MUTATION_MODULES, type MutationModule, moduleFiles } from './modules.js';
import { type ModuleRecord, mergeRun, readRecord, runFromResults } from './record.js';
import { judge, type ModuleView, renderMutationReport } from './report.js';
import { type KillOutcome, killingTests, type TestId, testsFailingAlone } from './stand-alone.js';

const root = new URL('../../', import.meta.url);
/** `--report`: rewrite bench/MUTATION.md from the records alone (after equivalents.json changes). */
const reportOnly = process.argv.includes('--report');
/** `--check-alone`: check the kills of recorded runs (see above) instead of running Stryker. */
const checkOnly = process.argv.includes('--check-alone');
const requested = process.argv
  .slice(2)
  .filter((arg) => arg !== '--report' && arg !== '--check-alone');
const unknown = requested.filter((name) => !(name in MUTATION_MODULES));
if (unknown.length > 0) {
  process.stderr.write(
    `mutation: unknown module ${unknown.join(', ')} (known: ${Object.keys(MUTATION_MODULES).join(', ')})\n`,
  );
  process.exit(2);
}
const chosen = requested.length > 0 ? requested : Object.keys(MUTATION_MODULES);
const names = reportOnly || checkOnly ? [] : chosen;

/**
 * Test runners (and checkers) Stryker starts at once: the committed config's default (for a quiet
 * machine) unless CUSTOS_MUTATION_CONCURRENCY says otherwise, e.g. 1 on cores shared with others.
 */
const concurrencyText = process.env.CUSTOS_MUTATION_CONCURRENCY;
let concurrency: number | undefined;
if (concurrencyText !== undefined && concurrencyText !== '') {
  concurrency = Number(concurrencyText);
  if (!/^[1-9][0-9]{0,2}$/.test(concurrencyText)) {
    process.stderr.write(
      `mutation: CUSTOS_MUTATION_CONCURRENCY must be a whole number from 1 to 999, not ${JSON.stringify(concurrencyText)}\n`,
    );
    process.exit(2);
  }
}

/**
 * Part of a module for this run only (CUSTOS_MUTATION_ONLY: comma-separated paths, each a file
 * of the module: named in its `mutate` list or matched by a pattern there), for a machine too
 * slow to mutate the whole module in one sitting. The run replaces the module's earlier results for these files only; the report says
 * which of its files no run has covered yet.
 */
const onlyText = process.env.CUSTOS_MUTATION_ONLY;
const only =
  onlyText === undefined || onlyText === '' ? undefined : onlyText.split(',').map((p) => p.trim());
if (only !== undefined) {
  const named = (
    await Promise.all(names.map((name) => moduleFiles(MUTATION_MODULES[name]?.mutate ?? [], root)))
  ).flat();
  const strangers = only.filter((path) => !named.includes(path));
  if (names.length !== 1 || strangers.length > 0) {
    process.stderr.write(
      `mutation: CUSTOS_MUTATION_ONLY takes one module and files it names (${strangers.join(', ') || `${names.length} modules given`})\n`,
    );
    process.exit(2);
  }
}

/**
 * SoftHSM2 reads `SOFTHSM2_CONF` with the C library's getenv, which a test in one of Stryker's
 * worker threads cannot set: the tests' tokens go to a directory of this run's own, named in the
 * environment every test process inherits (packages/server/test/softhsm.ts).
 */
async function sharedSoftHsmDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'custos-mutation-softhsm-'));
  await writeFile(
    join(dir, 'softhsm2.conf'),
    `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  process.env.SOFTHSM2_CONF = join(dir, 'softhsm2.conf');
  process.env.CUSTOS_SOFTHSM2_SHARED = '1';
  return dir;
}
/** Only when Stryker runs (not for `--report`). */
const softHsmDir = names.length === 0 ? undefined : await sharedSoftHsmDir();

/** The environment a module's tests run in, under Stryker and when run alone. */
function setModuleEnvironment(module: MutationModule): void {
  // Server tests run on SQLite only (packages/server/test/harness.ts): the code under mutation
  // is the same on both storages, and each test runs once per mutant.
  process.env.CUSTOS_TEST_STORAGE = 'sqlite';
  // Read by bench/mutation/vitest.config.ts in Stryker's test runner processes.
  if (module.testDir === undefined) delete process.env.CUSTOS_MUTATION_TEST_DIR;
  else process.env.CUSTOS_MUTATION_TEST_DIR = [module.testDir].flat().join(',');
}

/**
 * The tests among those that killed `results` that fail when run alone, reported as they run.
 * Only files of `files` (relative to `tree`, where the results name them) count.
 */
async function failingAlone(
  name: string,
  results: readonly (KillOutcome & { readonly fileName: string })[],
  files: readonly string[],
  tree: URL = root,
): Promise<Set<TestId>> {
  const base = tree.pathname;
  const wanted = new Set(files);
  const tests = killingTests(results.filter((r) => wanted.has(r.fileName.replace(base, ''))));
  process.stderr.write(
    `mutation: ${name}: running each of the ${tests.size} tests that killed mutants alone…\n`,
  );
  const failing = await testsFailingAlone(tests.keys(), {
    root,
    config: 'bench/mutation/vitest.config.ts',
    concurrency: concurrency ?? 2,
    onResult: (id, outcome, done, total) => {
      if (outcome !== 'passed')
        process.stderr.write(
          `mutation: ${name}: ${outcome === 'failed' ? 'fails alone' : 'not found'} (${tests.get(id)} kill(s) unconfirmed unless another test made them): ${id}\n`,
        );
      if (done % 20 === 0 || done === total)
        process.stderr.write(`mutation: ${name}: ${done} of ${total} tests run alone\n`);
    },
  });
  return failing;
}

for (const name of names) {
  const module = MUTATION_MODULES[name];
  if (module === undefined) continue;
  process.stderr.write(`mutation: ${name} (${module.title})…\n`);
  setModuleEnvironment(module);
  const stryker = new Stryker({
    configFile: new URL('stryker.config.mjs', root).pathname,
    mutate: only ?? [...module.mutate],
    // Named for isolated runs: a state file kept from the runs that shared loaded modules (named
    // <module>.incremental.json) would hand their results on to mutants it thinks unchanged.
    incrementalFile: `bench/mutation/${name}.isolated.incremental.json`,
    ignoreStatic: module.ignoreStatic === true,
    ...(module.checkerTsconfig === undefined ? {} : { tsconfigFile: module.checkerTsconfig }),
    ...(concurrency === undefined ? {} : { concurrency }),
  });
  const results: MutantResult[] = await stryker.runMutationTest();
  // Every file of the module, one without a mutant (re-exports, types) included, counts as run.
  const files = only ?? (await moduleFiles(module.mutate, root));
  const run = await runFromResults(
    module,
    results,
    root,
    files,
    await failingAlone(name, results, files),
  );
  // A run over the whole module starts its record afresh; one over some files adds to it.
  const previous = only === undefined ? undefined : await readRecord(name, root);
  const { record, dropped } = mergeRun(name, previous, run);
  if (dropped.length > 0)
    process.stderr.write(
      `mutation: ${name}: an earlier run of ${dropped.join(', ')} was replaced with this one (recorded before counts were kept by file, it cannot be split): run them again\n`,
    );
  await writeFile(
    new URL(`bench/mutation/${name}.json`, root),
    `${JSON.stringify(record, null, 2)}\n`,
  );
  const view = await judge(record, root);
  process.stderr.write(
    `mutation: ${name}: score ${view.score.toFixed(1)} %, ${view.unexplained.length} unexplained survivor(s)\n`,
  );
}

/** `--check-alone`: a module's recorded runs that were never checked, checked. */
async function checkRecord(name: string, module: MutationModule): Promise<void> {
  const record = await readRecord(name, root);
  const incremental = await readIncremental(name, root);
  if (record === undefined || incremental === undefined) {
    process.stderr.write(
      `mutation: ${name}: ${record === undefined ? 'no record' : 'no incremental file'} to check: run it again (npm run mutation ${name})\n`,
    );
    return;
  }
  let checked: ModuleRecord;
  try {
    const { checkable, skipped } = await checkableRuns(module, record, incremental, root);
    for (const why of skipped)
      process.stderr.write(`mutation: ${name}: cannot check the ${why}: run it again\n`);
    if (checkable.length === 0) return;
    setModuleEnvironment(module);
    const files = checkable.flatMap((run) => run.files);
    const failing = await failingAlone(name, incremental.results, files, incremental.tree);
    const runs = [];
    for (const run of record.runs)
      runs.push(
        checkable.includes(run) ? await checkedRun(module, run, incremental, failing) : run,
      );
    checked = { ...record, runs };
  } finally {
    await incremental.close();
  }
  await writeFile(
    new URL(`bench/mutation/${name}.json`, root),
    `${JSON.stringify(checked, null, 2)}\n`,
  );
}

if (checkOnly) {
  for (const name of chosen) {
    const module = MUTATION_MODULES[name];
    if (module !== undefined) await checkRecord(name, module);
  }
}

if (softHsmDir !== undefined) await rm(softHsmDir, { recursive: true, force: true });

const views: ModuleView[] = [];
for (const name of Object.keys(MUTATION_MODULES)) {
  const record = await readRecord(name, root);
  if (record !== undefined) views.push(await judge(record, root));
}
await writeFile(new URL('bench/MUTATION.md', root), renderMutationReport(views));
process.stderr.write('mutation: wrote bench/MUTATION.md\n');
