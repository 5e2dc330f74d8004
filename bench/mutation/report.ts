import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import type { MutantResult } from '@stryker-mutator/api/core';
import { MUTATION_MODULES, type MutationModule } from './modules.js';

/** The goal of every module: at least this share of mutants killed. */
export const GOAL_PERCENT = 90;

/** A surviving mutant, named so it can be found again after the code around it moves. */
export interface Survivor {
  /** `Survived` (tests ran and passed) or `NoCoverage` (no test runs this code). */
  readonly status: string;
  readonly file: string;
  readonly line: number;
  readonly mutator: string;
  /** The mutated source text (first line, trimmed). */
  readonly original: string;
  readonly replacement: string;
  /** Set when bench/mutation/equivalents.json explains why no test can kill it. */
  readonly equivalent?: string;
}

/** One module's last run, as stored in bench/mutation/<module>.json. */
export interface ModuleSummary {
  readonly name: string;
  readonly title: string;
  readonly ranAt: string;
  readonly files: readonly string[];
  /** Where the measuring tests were looked for, when not the whole repository. */
  readonly testDir?: string | readonly string[];
  readonly counts: Readonly<Record<string, number>>;
  /** Killed and timed-out mutants over every mutant that compiled, in percent. */
  readonly score: number;
  readonly equivalent: readonly Survivor[];
  readonly unexplained: readonly Survivor[];
}

/** An entry of bench/mutation/equivalents.json: a survivor no test can kill, and why. */
interface Equivalent {
  readonly file: string;
  readonly mutator: string;
  readonly original: string;
  readonly replacement: string;
  readonly reason: string;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function sameMutant(a: Omit<Equivalent, 'reason'>, b: Omit<Equivalent, 'reason'>): boolean {
  return (
    a.file === b.file &&
    a.mutator === b.mutator &&
    a.original === b.original &&
    a.replacement === b.replacement
  );
}

/**
 * Counts a module's results and names every survivor, marking those that equivalents.json
 * explains.
 */
export async function summarise(
  name: string,
  module: MutationModule,
  results: readonly MutantResult[],
  root: URL,
): Promise<ModuleSummary> {
  const equivalents = JSON.parse(
    await readFile(new URL('bench/mutation/equivalents.json', root), 'utf8'),
  ) as Equivalent[];
  const sources = new Map<string, string[]>();
  const lineOf = async (file: string, line: number): Promise<string> => {
    let lines = sources.get(file);
    if (lines === undefined) {
      lines = (await readFile(new URL(file, root), 'utf8')).split('\n');
      sources.set(file, lines);
    }
    return lines[line - 1] ?? '';
  };
  const counts: Record<string, number> = {};
  const equivalent: Survivor[] = [];
  const unexplained: Survivor[] = [];
  const files = new Set<string>();
  for (const result of results) {
    const file = result.fileName.replace(new URL('.', root).pathname, '');
    files.add(file);
    counts[result.status] = (counts[result.status] ?? 0) + 1;
    if (!UNDETECTED.has(result.status)) continue;
    const { start, end } = result.location;
    const text = await lineOf(file, start.line);
    const original = (
      start.line === end.line
        ? text.slice(start.column - 1, end.column - 1)
        : text.slice(start.column - 1)
    ).trim();
    const survivor = {
      status: result.status,
      file,
      line: start.line,
      mutator: result.mutatorName,
      original,
      replacement: (result.replacement ?? '').split('\n')[0]?.trim() ?? '',
    };
    const known = equivalents.find((e) => sameMutant(e, survivor));
    if (known !== undefined) equivalent.push({ ...survivor, equivalent: known.reason });
    else unexplained.push(survivor);
  }
  const detected = [...DETECTED].reduce((n, s) => n + (counts[s] ?? 0), 0);
  const valid = detected + [...UNDETECTED].reduce((n, s) => n + (counts[s] ?? 0), 0);
  return {
    name,
    title: module.title,
    ranAt: new Date().toISOString(),
    files: [...files].sort(),
    ...(module.testDir === undefined ? {} : { testDir: module.testDir }),
    counts,
    score: valid === 0 ? 100 : (100 * detected) / valid,
    equivalent,
    unexplained,
  };
}

function inlineCode(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/`/g, "'");
}

/**
 * The files a module names one by one (not by a glob) that its last run did not mutate: a run
 * over part of a module meets no goal for the whole of it.
 */
function filesNotRun(s: ModuleSummary): string[] {
  const named = (MUTATION_MODULES[s.name]?.mutate ?? []).filter(
    (path) => !path.startsWith('!') && !path.includes('*'),
  );
  return named.filter((path) => !s.files.includes(path));
}

/** bench/MUTATION.md: the score of each module and every survivor, explained or not. */
export function renderMutationReport(summaries: readonly ModuleSummary[]): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines = [
    '# Mutation testing',
    '',
    'Written by `npm run mutation` (StrykerJS with the vitest runner and the TypeScript checker;',
    'see DEVELOPERS.md). A mutant is a one-line plausible bug; the score is the share of',
    `mutants that compile and that some test detects (killed or timed out). Goal: at least ${GOAL_PERCENT} % in`,
    'every module, and every surviving mutant either killed by a new test or listed in',
    '`bench/mutation/equivalents.json` with the reason no test can tell it apart.',
    '',
    `Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    '',
    '| Module | Mutants | Killed | Timeout | Survived | No coverage | Compile errors | Static, not run | Score | Equivalent | Unexplained | Goal |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const s of summaries) {
    const c = (status: string) => s.counts[status] ?? 0;
    const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
    const met = s.score >= GOAL_PERCENT && s.unexplained.length === 0;
    const notRun = filesNotRun(s).length;
    const goal = !met
      ? '**not met**'
      : notRun > 0
        ? `**partial** (${notRun} file(s) not run)`
        : 'met';
    lines.push(
      `| ${s.title} | ${total} | ${c('Killed')} | ${c('Timeout')} | ${c('Survived')} | ${c('NoCoverage')} | ${c('CompileError')} | ${c('Ignored')} | ${s.score.toFixed(1)} % | ${s.equivalent.length} | ${s.unexplained.length} | ${goal} |`,
    );
  }
  for (const s of summaries) {
    const tests =
      s.testDir === undefined
        ? ''
        : `, measured by the tests under ${[s.testDir].flat().join(' and ')}`;
    const ignored = s.counts.Ignored ?? 0;
    const skipped =
      ignored === 0 ? '' : ` ${ignored} static mutants were not run (they count in no score).`;
    lines.push(
      '',
      `## ${s.title}`,
      '',
      `Run ${s.ranAt.slice(0, 10)} on ${s.files.join(', ')}${tests}.${skipped}`,
    );
    const notRun = filesNotRun(s);
    if (notRun.length > 0)
      lines.push(
        '',
        `Not run yet (no goal is met for the module until they are): ${notRun.join(', ')}.`,
      );
    if (s.unexplained.length > 0) {
      lines.push('', 'Surviving mutants without an explanation:', '');
      for (const m of s.unexplained)
        lines.push(
          `- \`${m.file}:${m.line}\` ${m.mutator}${m.status === 'NoCoverage' ? ' (no test runs it)' : ''}: \`${inlineCode(m.original)}\` → \`${inlineCode(m.replacement)}\``,
        );
    }
    if (s.equivalent.length > 0) {
      lines.push('', 'Equivalent mutants (no test can tell them apart):', '');
      for (const m of s.equivalent)
        lines.push(
          `- \`${m.file}:${m.line}\` ${m.mutator}: \`${inlineCode(m.original)}\` → \`${inlineCode(m.replacement)}\` — ${m.equivalent}`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}
