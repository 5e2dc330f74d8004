/**
 * What bench/mutation/<module>.json keeps of a module: one entry per run, each over some of the
 * module's files. A run over some files replaces earlier results for those files only, so a
 * module too long for one sitting is measured a few files at a time and the record adds up.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import type { MutantResult } from '@stryker-mutator/api/core';
import ts from 'typescript';
import { type MutationModule, namedFiles } from './modules.js';
import { isUnconfirmed, type TestId } from './stand-alone.js';

/** A mutant named so it can be found again after the code around it moves. */
export interface Survivor {
  /**
   * `Survived` (tests ran and passed), `NoCoverage` (no test runs this code) or `Unconfirmed`
   * (killed only by tests that fail when run alone, bench/mutation/stand-alone.ts); `Timeout` in
   * {@link ModuleRun.timeouts}.
   */
  readonly status: string;
  readonly file: string;
  readonly line: number;
  readonly mutator: string;
  /** The mutated source text (first line, trimmed). */
  readonly original: string;
  readonly replacement: string;
  /** For an `Unconfirmed` mutant: the tests that killed it, each failing alone. */
  readonly killedBy?: readonly TestId[];
}

/** One Stryker run over some of a module's files. */
export interface ModuleRun {
  readonly ranAt: string;
  /** Cores, CPU, memory and Node version of the machine it ran on. */
  readonly machine: string;
  readonly files: readonly string[];
  /**
   * SHA-256 (hex) of each file's text as it was mutated: a file that has changed since makes
   * the run stale, and the report says so. (A list of pairs, not an object keyed by path: a
   * path with `token` in it before a hex value reads as a secret to the project's self-scan.)
   */
  readonly digests: readonly { readonly file: string; readonly sha256: string }[];
  /** Where the measuring tests were looked for, when not the whole repository. */
  readonly testDir?: string | readonly string[];
  /** Mutants by Stryker status (Killed, Survived, CompileError, Ignored…). */
  readonly counts: Readonly<Record<string, number>>;
  /**
   * {@link counts} file by file (every file with a mutant; pairs, as {@link digests}): a later
   * run over some of these files replaces their part only. Absent on runs before 2026-12-06,
   * which a later run over any of their files replaces whole.
   */
  readonly fileCounts?: readonly {
    readonly file: string;
    readonly counts: Readonly<Record<string, number>>;
  }[];
  readonly survivors: readonly Survivor[];
  /**
   * The mutants detected only by their tests timing out. Each should be a hang (a loop that never
   * ends, a promise never settled); one that is a test slowed by a loaded machine hides a
   * survivor, so the report lists them to be read. Absent on runs before they were recorded.
   */
  readonly timeouts?: readonly Survivor[];
  /**
   * Every test file ran isolated. Absent on the runs made before that was the rule, when the
   * modules that skip static mutants shared loaded modules between test files, which measured
   * some mutants wrong (bench/mutation/vitest.config.ts): those runs count as unreliable.
   */
  readonly isolated?: true;
  /**
   * When the tests that killed its mutants were run alone (bench/mutation/stand-alone.ts): kills
   * resting only on tests that failed are counted `Unconfirmed`. Absent on runs whose kills were
   * never checked, which the report names.
   */
  readonly checkedAlone?: string;
}

/** bench/mutation/<module>.json. */
export interface ModuleRecord {
  readonly name: string;
  readonly runs: readonly ModuleRun[];
}

/** Statuses that count as a test detecting the mutant, and those that count as not. */
export const DETECTED: ReadonlySet<string> = new Set(['Killed', 'Timeout']);
export const UNDETECTED: ReadonlySet<string> = new Set(['Survived', 'NoCoverage', 'Unconfirmed']);

/**
 * The SHA-256 of a source file's code: its syntax tree printed without comments or layout, so
 * a change to comments or formatting, which changes no mutant, does not make a run stale.
 * Undefined when the file no longer exists.
 */
export async function digestOf(file: string, root: URL): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(new URL(file, root), 'utf8');
  } catch {
    return undefined;
  }
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const code = ts.createPrinter({ removeComments: true }).printFile(source);
  return createHash('sha256').update(code).digest('hex');
}

/** The SHA-256 of a file's bytes: what runs recorded before 2026-12-06 hold as their digest. */
export async function textDigestOf(file: string, root: URL): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(new URL(file, root)))
      .digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * One run's record from Stryker's results. `asked` lists files given by name for this run: one
 * in which Stryker found no mutant still counts as run. When every entry of `asked` is a file
 * name (no glob), results for other files are left out: Stryker's incremental report carries
 * them over from earlier runs without running them, against tests that may have changed since.
 * With `failingAlone` (the killing tests that fail when run alone), a kill resting only on such
 * tests is counted `Unconfirmed` and listed, and the run records when its kills were checked.
 */
export async function runFromResults(
  module: MutationModule,
  results: readonly MutantResult[],
  root: URL,
  asked: readonly string[] = [],
  failingAlone?: ReadonlySet<TestId>,
): Promise<ModuleRun> {
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
  const byFile = new Map<string, Record<string, number>>();
  const survivors: Survivor[] = [];
  const timeouts: Survivor[] = [];
  const files = new Set(namedFiles(asked));
  const onlyAsked = asked.length > 0 && files.size === asked.length;
  for (const result of results) {
    const file = result.fileName.replace(new URL('.', root).pathname, '');
    if (onlyAsked && !files.has(file)) continue;
    files.add(file);
    const unconfirmed = failingAlone !== undefined && isUnconfirmed(result, failingAlone);
    const status = unconfirmed ? 'Unconfirmed' : result.status;
    counts[status] = (counts[status] ?? 0) + 1;
    const ofFile = byFile.get(file) ?? {};
    ofFile[status] = (ofFile[status] ?? 0) + 1;
    byFile.set(file, ofFile);
    const listed = UNDETECTED.has(status) ? survivors : status === 'Timeout' ? timeouts : undefined;
    if (listed === undefined) continue;
    const { start, end } = result.location;
    const text = await lineOf(file, start.line);
    const original = (
      start.line === end.line
        ? text.slice(start.column - 1, end.column - 1)
        : text.slice(start.column - 1)
    ).trim();
    listed.push({
      status,
      file,
      line: start.line,
      mutator: result.mutatorName,
      original,
      replacement: (result.replacement ?? '').split('\n')[0]?.trim() ?? '',
      ...(unconfirmed ? { killedBy: result.killedBy ?? [] } : {}),
    });
  }
  const sorted = [...files].sort();
  const digests: { file: string; sha256: string }[] = [];
  for (const file of sorted) {
    const sha256 = await digestOf(file, root);
    if (sha256 !== undefined) digests.push({ file, sha256 });
  }
  return {
    ranAt: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    files: sorted,
    digests,
    ...(module.testDir === undefined ? {} : { testDir: module.testDir }),
    counts,
    fileCounts: sorted.flatMap((file) => {
      const ofFile = byFile.get(file);
      return ofFile === undefined ? [] : [{ file, counts: ofFile }];
    }),
    survivors,
    timeouts,
    isolated: true,
    ...(failingAlone === undefined ? {} : { checkedAlone: new Date().toISOString() }),
  };
}

/**
 * `run` without the results of `files`, or undefined when its counts cannot be split by file
 * (a run recorded before {@link ModuleRun.fileCounts}) or nothing of it is left.
 */
function withoutFiles(run: ModuleRun, files: ReadonlySet<string>): ModuleRun | undefined {
  const rest = run.files.filter((file) => !files.has(file));
  if (run.fileCounts === undefined || rest.length === 0) return undefined;
  const fileCounts = run.fileCounts.filter((entry) => !files.has(entry.file));
  const counts: Record<string, number> = {};
  for (const entry of fileCounts) {
    for (const [status, n] of Object.entries(entry.counts))
      counts[status] = (counts[status] ?? 0) + n;
  }
  const kept = (mutants: readonly Survivor[]) => mutants.filter((m) => !files.has(m.file));
  return {
    ...run,
    files: rest,
    digests: run.digests.filter((digest) => !files.has(digest.file)),
    counts,
    fileCounts,
    survivors: kept(run.survivors),
    ...(run.timeouts === undefined ? {} : { timeouts: kept(run.timeouts) }),
  };
}

/**
 * A module's record with a new run added. Earlier results for the new run's files are replaced:
 * an earlier run keeps its other files, or, recorded before counts were kept by file, is
 * dropped whole; `dropped` names the files of such runs that the new run did not cover, which
 * are then reported as not run.
 */
export function mergeRun(
  name: string,
  previous: ModuleRecord | undefined,
  run: ModuleRun,
): { record: ModuleRecord; dropped: string[] } {
  const covered = new Set(run.files);
  const kept: ModuleRun[] = [];
  const dropped: string[] = [];
  for (const earlier of previous?.runs ?? []) {
    if (!earlier.files.some((file) => covered.has(file))) {
      kept.push(earlier);
      continue;
    }
    const rest = withoutFiles(earlier, covered);
    if (rest !== undefined) kept.push(rest);
    else dropped.push(...earlier.files.filter((file) => !covered.has(file)));
  }
  return { record: { name, runs: [...kept, run] }, dropped };
}

/** bench/mutation/<name>.json, or undefined when the module was never measured. */
export async function readRecord(name: string, root: URL): Promise<ModuleRecord | undefined> {
  let text: string;
  try {
    text = await readFile(new URL(`bench/mutation/${name}.json`, root), 'utf8');
  } catch {
    return undefined;
  }
  const record = JSON.parse(text) as ModuleRecord;
  if (!Array.isArray(record.runs))
    throw new Error(`bench/mutation/${name}.json is not a module record (no "runs" list)`);
  return record;
}
