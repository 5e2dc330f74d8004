import { readFile } from 'node:fs/promises';
import { MUTATION_MODULES, moduleFiles } from './modules.js';
import {
  DETECTED,
  digestOf,
  type ModuleRecord,
  type ModuleRun,
  type Survivor,
  textDigestOf,
  UNDETECTED,
} from './record.js';

/** The goal of every module: at least this share of mutants killed. */
export const GOAL_PERCENT = 90;

/** An entry of bench/mutation/equivalents.json: a survivor no test can kill, and why. */
interface Equivalent {
  readonly file: string;
  readonly mutator: string;
  readonly original: string;
  readonly replacement: string;
  /**
   * Text on the mutant's line or the two lines after it, in the file as it is now. Required
   * when `original` is shorter than three characters (a `{`, `''` or `[]` alone would match
   * every such mutant of the file, including ones a test should kill).
   */
  readonly near?: string;
  readonly reason: string;
}

/** A module as the report shows it: its runs added up and its survivors judged. */
export interface ModuleView {
  readonly name: string;
  readonly title: string;
  readonly runs: readonly ModuleRun[];
  readonly counts: Readonly<Record<string, number>>;
  /** Killed and timed-out mutants over every mutant that compiled, in percent. */
  readonly score: number;
  readonly equivalent: readonly (Survivor & { readonly reason: string })[];
  readonly unexplained: readonly Survivor[];
  /** Mutants detected only by timing out, to be read (ModuleRun.timeouts). */
  readonly timeouts: readonly Survivor[];
  /** Timed-out mutants of runs made before they were listed: counted, not named. */
  readonly timeoutsUnlisted: number;
  /** Files the module names one by one that no run covers. */
  readonly notRun: readonly string[];
  /** Files whose text has changed since the run that measured them. */
  readonly stale: readonly string[];
  /** Files measured by a run whose test files shared loaded modules (see ModuleRun.isolated). */
  readonly shared: readonly string[];
  /** Files measured by a run whose killing tests were never run alone (ModuleRun.checkedAlone). */
  readonly unchecked: readonly string[];
}

/** Refuses an entry whose short text would match every such mutant of its file. */
function checkEquivalent(e: Equivalent): void {
  if (e.near === undefined && e.original.length < 3)
    throw new Error(
      `bench/mutation/equivalents.json: the entry for ${e.mutator} ${e.original} in ${e.file} needs "near" (text on the mutant's line or the two after it)`,
    );
}

/** Whether `e` explains `survivor`; `lines` reads a file's current lines. */
async function explains(
  e: Equivalent,
  survivor: Survivor,
  lines: (file: string) => Promise<readonly string[]>,
): Promise<boolean> {
  if (
    e.file !== survivor.file ||
    e.mutator !== survivor.mutator ||
    e.original !== survivor.original ||
    e.replacement !== survivor.replacement
  )
    return false;
  if (e.near === undefined) return true;
  const around = (await lines(survivor.file)).slice(survivor.line - 1, survivor.line + 2);
  return around.join('\n').includes(e.near);
}

/** Adds up a module's runs and marks the survivors bench/mutation/equivalents.json explains. */
export async function judge(record: ModuleRecord, root: URL): Promise<ModuleView> {
  const module = MUTATION_MODULES[record.name];
  if (module === undefined) throw new Error(`bench/mutation: unknown module ${record.name}`);
  const equivalents = JSON.parse(
    await readFile(new URL('bench/mutation/equivalents.json', root), 'utf8'),
  ) as Equivalent[];
  for (const e of equivalents) checkEquivalent(e);
  const counts: Record<string, number> = {};
  const equivalent: (Survivor & { reason: string })[] = [];
  const unexplained: Survivor[] = [];
  const timeouts: Survivor[] = [];
  let timeoutsUnlisted = 0;
  const stale: string[] = [];
  const shared: string[] = [];
  const unchecked: string[] = [];
  const sources = new Map<string, readonly string[]>();
  const lines = async (file: string) => {
    let text = sources.get(file);
    if (text === undefined) {
      text = (await readFile(new URL(file, root), 'utf8').catch(() => '')).split('\n');
      sources.set(file, text);
    }
    return text;
  };
  for (const run of record.runs) {
    for (const [status, n] of Object.entries(run.counts))
      counts[status] = (counts[status] ?? 0) + n;
    for (const survivor of run.survivors) {
      let known: Equivalent | undefined;
      for (const e of equivalents) {
        if (!(await explains(e, survivor, lines))) continue;
        known = e;
        break;
      }
      if (known !== undefined) equivalent.push({ ...survivor, reason: known.reason });
      else unexplained.push(survivor);
    }
    if (run.timeouts !== undefined) timeouts.push(...run.timeouts);
    else timeoutsUnlisted += run.counts.Timeout ?? 0;
    // Only the modules that skip static mutants ever ran sharing modules.
    if (run.isolated !== true && module.ignoreStatic === true) shared.push(...run.files);
    if (run.checkedAlone === undefined) unchecked.push(...run.files);
    for (const file of run.files) {
      const measured = run.digests.find((d) => d.file === file)?.sha256;
      const current = await digestOf(file, root);
      // Runs recorded before code digests hold the digest of the file's bytes.
      if (measured !== current && measured !== (await textDigestOf(file, root))) stale.push(file);
    }
  }
  const covered = new Set(record.runs.flatMap((run) => run.files));
  const named = await moduleFiles(module.mutate, root);
  const detected = [...DETECTED].reduce((n, s) => n + (counts[s] ?? 0), 0);
  const valid = detected + [...UNDETECTED].reduce((n, s) => n + (counts[s] ?? 0), 0);
  return {
    name: record.name,
    title: module.title,
    runs: record.runs,
    counts,
    score: valid === 0 ? 100 : (100 * detected) / valid,
    equivalent,
    unexplained,
    timeouts,
    timeoutsUnlisted,
    notRun: named.filter((path) => !covered.has(path)),
    stale,
    shared,
    unchecked,
  };
}

function inlineCode(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/`/g, "'");
}

function describeChange(m: Survivor): string {
  return `\`${inlineCode(m.original)}\` → \`${inlineCode(m.replacement)}\``;
}

/** What kind of survivor `m` is, when not one that tests ran and passed. */
function whyUnexplained(m: Survivor): string {
  if (m.status === 'NoCoverage') return ' (no test runs it)';
  if (m.status !== 'Unconfirmed') return '';
  const tests = (m.killedBy ?? []).map((id) => `\`${inlineCode(id)}\``).join(', ');
  return ` (killed only by ${tests}, which fails alone)`;
}

function goalOf(v: ModuleView): string {
  if (v.score < GOAL_PERCENT || v.unexplained.length > 0) return '**not met**';
  if (v.notRun.length > 0) return `**partial** (${v.notRun.length} file(s) not run)`;
  if (v.shared.length > 0)
    return `**unreliable** (${v.shared.length} file(s) measured sharing modules)`;
  if (v.unchecked.length > 0)
    return `**unchecked** (${v.unchecked.length} file(s) whose killing tests were not run alone)`;
  if (v.stale.length > 0) return `**stale** (${v.stale.length} file(s) changed since)`;
  return 'met';
}

function describeRun(run: ModuleRun): string {
  const tests =
    run.testDir === undefined
      ? ''
      : `, measured by the tests under ${[run.testDir].flat().join(' and ')}`;
  const ignored = run.counts.Ignored ?? 0;
  const skipped =
    ignored === 0
      ? ''
      : ` ${ignored} static ${ignored === 1 ? 'mutant was' : 'mutants were'} not run (they count in no score).`;
  return `Run ${run.ranAt.slice(0, 10)} (${run.machine}) on ${run.files.join(', ')}${tests}.${skipped}`;
}

/** bench/MUTATION.md: the score of each module and every survivor, explained or not. */
export function renderMutationReport(views: readonly ModuleView[]): string {
  const lines = [
    '# Mutation testing',
    '',
    'Written by `npm run mutation` (StrykerJS with the vitest runner and the TypeScript checker;',
    'see DEVELOPERS.md). A mutant is a one-line plausible bug; the score is the share of',
    `mutants that compile and that some test detects (killed or timed out). Goal: at least ${GOAL_PERCENT} % in`,
    'every module, and every surviving mutant either killed by a new test or listed in',
    '`bench/mutation/equivalents.json` with the reason no test can tell it apart. A module may be',
    'measured a few files at a time: each run replaces the results of its files only, and a file',
    'whose code changed since its run (comments and layout aside) is reported stale until it is',
    'run again. Runs made while test files shared loaded modules (before 2026-12-05) are',
    'reported unreliable until run again. After each run every test that killed a mutant runs',
    'alone against the unmutated code: a kill resting only on tests that fail alone (they need',
    'what an earlier test of their file left behind, and Stryker runs only the tests covering a',
    'mutant) is counted unconfirmed, not detected. Runs recorded before that check are reported',
    'unchecked until `npm run mutation -- --check-alone` or a new run checks them.',
    '',
    '| Module | Mutants | Killed | Timeout | Survived | No coverage | Unconfirmed | Compile errors | Static, not run | Score | Equivalent | Unexplained | Goal |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const v of views) {
    const c = (status: string) => v.counts[status] ?? 0;
    const total = Object.values(v.counts).reduce((a, b) => a + b, 0);
    lines.push(
      `| ${v.title} | ${total} | ${c('Killed')} | ${c('Timeout')} | ${c('Survived')} | ${c('NoCoverage')} | ${c('Unconfirmed')} | ${c('CompileError')} | ${c('Ignored')} | ${v.score.toFixed(1)} % | ${v.equivalent.length} | ${v.unexplained.length} | ${goalOf(v)} |`,
    );
  }
  const notMeasured = Object.keys(MUTATION_MODULES).filter(
    (name) => !views.some((v) => v.name === name),
  );
  if (notMeasured.length > 0)
    lines.push(
      '',
      `Not measured yet: ${notMeasured.map((name) => MUTATION_MODULES[name]?.title).join('; ')}.`,
    );
  for (const v of views) {
    lines.push('', `## ${v.title}`, '');
    for (const run of v.runs) lines.push(`- ${describeRun(run)}`);
    if (v.notRun.length > 0)
      lines.push(
        '',
        `Not run yet (no goal is met for the module until they are): ${v.notRun.join(', ')}.`,
      );
    if (v.shared.length > 0)
      lines.push(
        '',
        `Measured while test files shared loaded modules, which reported mutants the tests kill as survivors (to run again): ${v.shared.join(', ')}.`,
      );
    if (v.unchecked.length > 0)
      lines.push('', `Killing tests not yet run alone (to check): ${v.unchecked.join(', ')}.`);
    if (v.stale.length > 0)
      lines.push('', `Changed since their run (to run again): ${v.stale.join(', ')}.`);
    if (v.unexplained.length > 0) {
      lines.push('', 'Surviving mutants without an explanation:', '');
      for (const m of v.unexplained)
        lines.push(
          `- \`${m.file}:${m.line}\` ${m.mutator}${whyUnexplained(m)}: ${describeChange(m)}`,
        );
    }
    if (v.timeouts.length > 0 || v.timeoutsUnlisted > 0) {
      lines.push(
        '',
        'Detected by timing out (each should be a hang, such as a loop that never ends; one that only ran slow on a loaded machine is a survivor):',
        '',
      );
      for (const m of v.timeouts)
        lines.push(`- \`${m.file}:${m.line}\` ${m.mutator}: ${describeChange(m)}`);
      if (v.timeoutsUnlisted > 0)
        lines.push(`- ${v.timeoutsUnlisted} more from runs that did not list them`);
    }
    if (v.equivalent.length > 0) {
      lines.push('', 'Equivalent mutants (no test can tell them apart):', '');
      for (const m of v.equivalent)
        lines.push(`- \`${m.file}:${m.line}\` ${m.mutator}: ${describeChange(m)} — ${m.reason}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
