/**
 * Whether the tests that killed mutants pass when run alone, without a mutant.
 *
 * Stryker's vitest runner runs only the tests that cover a mutant. A test that needs what an
 * earlier test of its file left behind (a policy written, a key made) fails when run that way,
 * mutant or not, and Stryker counts the failure as a kill. After a run, every killing test is
 * run alone against the unmutated code; the kills that rest only on tests failing alone are
 * recorded as unconfirmed (bench/mutation/record.ts), not as killed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A test as Stryker's vitest runner names it: `<file relative to the repository>#<describe
 * blocks and test name, joined by spaces>`.
 */
export type TestId = string;

/** The file and full name of a test id. */
export function testOfId(id: TestId): { readonly file: string; readonly name: string } {
  const at = id.indexOf('#');
  if (at <= 0) throw new Error(`mutation: not a vitest test id (file#name): ${id}`);
  return { file: id.slice(0, at), name: id.slice(at + 1) };
}

/** A mutant as far as this check looks at it. */
export interface KillOutcome {
  readonly status: string;
  readonly killedBy?: readonly TestId[];
}

/** Every test that killed a mutant, with how many kills each made (alone or beside others). */
export function killingTests(results: readonly KillOutcome[]): Map<TestId, number> {
  const tests = new Map<TestId, number>();
  for (const result of results) {
    if (result.status !== 'Killed') continue;
    for (const id of result.killedBy ?? []) tests.set(id, (tests.get(id) ?? 0) + 1);
  }
  return tests;
}

/**
 * Whether a kill rests only on tests that fail alone. A kill no test is named for (Stryker names
 * none when a whole file fails to load) is not judged here.
 */
export function isUnconfirmed(result: KillOutcome, failingAlone: ReadonlySet<TestId>): boolean {
  const by = result.killedBy ?? [];
  return result.status === 'Killed' && by.length > 0 && by.every((id) => failingAlone.has(id));
}

/** vitest's `-t` pattern that matches one test's full name and nothing else. */
export function namePattern(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

/** How {@link testsFailingAlone} runs the tests. */
export interface AloneOptions {
  /** Where vitest runs (the repository root): test files and `config` are relative to it. */
  readonly root: URL;
  /** The vitest configuration file, relative to `root`. */
  readonly config: string;
  /** Tests run at once, each in its own vitest process. */
  readonly concurrency: number;
  /** Called after each test with its outcome. */
  readonly onResult?: (id: TestId, outcome: AloneOutcome, done: number, total: number) => void;
}

/**
 * A test run alone: it `passed`, `failed` (or its file did), or is `missing` (no test of that
 * name in that file ran: renamed or removed since the kill, which is then not confirmed).
 */
export type AloneOutcome = 'passed' | 'failed' | 'missing';

/** What vitest's JSON reporter writes that this reads. */
interface VitestSummary {
  readonly success: boolean;
  readonly numPassedTests: number;
  readonly numFailedTests: number;
}

/** Runs one test alone, in a vitest process of its own that reports to `report` (a JSON file). */
async function runAlone(id: TestId, options: AloneOptions, report: string): Promise<AloneOutcome> {
  const { file, name } = testOfId(id);
  const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
  const args = [
    vitest,
    'run',
    '--config',
    options.config,
    '--reporter=json',
    `--outputFile.json=${report}`,
    file,
    '-t',
    namePattern(name),
  ];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: fileURLToPath(options.root),
      stdio: 'ignore',
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  let summary: VitestSummary;
  try {
    summary = JSON.parse(await readFile(report, 'utf8')) as VitestSummary;
  } catch {
    return 'failed';
  } finally {
    await rm(report, { force: true });
  }
  if (code !== 0 || !summary.success || summary.numFailedTests > 0) return 'failed';
  return summary.numPassedTests > 0 ? 'passed' : 'missing';
}

/**
 * The tests of `ids` that do not pass when each runs alone, in a vitest process of its own
 * against the code as it is (no mutant): failed or missing ({@link AloneOutcome}).
 *
 * @example
 * ```ts
 * const failing = await testsFailingAlone(killingTests(results).keys(), {
 *   root, config: 'bench/mutation/vitest.config.ts', concurrency: 2,
 * });
 * ```
 */
export async function testsFailingAlone(
  ids: Iterable<TestId>,
  options: AloneOptions,
): Promise<Set<TestId>> {
  const queue = [...new Set(ids)].sort();
  const total = queue.length;
  const failing = new Set<TestId>();
  const reports = await mkdtemp(join(tmpdir(), 'custos-alone-'));
  let done = 0;
  const worker = async (slot: number) => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const outcome = await runAlone(id, options, join(reports, `${slot}.json`));
      if (outcome !== 'passed') failing.add(id);
      done += 1;
      options.onResult?.(id, outcome, done, total);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, options.concurrency) }, (_, slot) => worker(slot)),
    );
  } finally {
    await rm(reports, { recursive: true, force: true });
  }
  return failing;
}
