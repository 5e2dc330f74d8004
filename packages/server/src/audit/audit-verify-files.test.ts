/**
 * `verifyAuditFiles`: a sink's files given in any order are ordered by the chain and proven to
 * leave no gap; a missing middle file, a file given twice, a file cut at its end, an edited
 * entry, reordered lines and a missing first file are each named.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotatingLog, type TestClock } from '../../test/audit-files.js';
import { type AuditFileInput, verifyAuditFiles } from './audit-verify-files.js';

describe('verifying a set of audit files', () => {
  let dir: string;
  let files: AuditFileInput[]; // in chain order
  let now: Date;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-verify-files-'));
    const clock: TestClock = { ms: Date.now() - 3_600_000 };
    const log = await rotatingLog(join(dir, 'audit.log'), clock, { maxBytes: 2048 });
    await log.write(40);
    await log.close();
    now = new Date(clock.ms);
    const names = (await readdir(dir)).sort(); // audit.log, then audit.log.<time> oldest first
    const ordered = [...names.slice(1), names[0] as string];
    files = await Promise.all(
      ordered.map(async (name) => ({ name, text: await readFile(join(dir, name), 'utf8') })),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const verify = (set: AuditFileInput[], allowEarlierFiles = false) =>
    verifyAuditFiles(set, { now, allowEarlierFiles });
  const allProblems = (report: ReturnType<typeof verify>) => [
    ...report.problems,
    ...report.files.flatMap((f) => f.problems.map((p) => `${f.name}: ${p}`)),
  ];
  const lines = (f: AuditFileInput) => f.text.trimEnd().split('\n');
  const withLines = (f: AuditFileInput, l: string[]) => ({
    name: f.name,
    text: `${l.join('\n')}\n`,
  });

  it('passes every file in any order, ordered by the chain', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
    const shuffled = [files[2], files[0], files.at(-1), files[1], ...files.slice(3, -1)];
    const report = verify(shuffled as AuditFileInput[]);
    expect(allProblems(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.files.map((f) => f.name)).toEqual(files.map((f) => f.name));
    expect(report.firstSeq).toBe(1);
    // Earlier files end where the next begins: no "not closed" warning for them.
    expect(report.files.slice(0, -1).flatMap((f) => f.warnings)).toEqual([]);
  });

  it('names a missing middle file by its neighbours and the missing range', () => {
    const [a, b, c] = files as [AuditFileInput, AuditFileInput, AuditFileInput];
    const report = verify([a, c, ...files.slice(3)]);
    expect(report.ok).toBe(false);
    const bFirst = JSON.parse(lines(b)[0] as string).seq;
    const bLast = JSON.parse(lines(b).at(-1) as string).seq;
    expect(report.problems).toEqual([
      `entries ${bFirst}..${bLast} are missing between ${a.name} and ${c.name}: a file is missing from the set, or lines were cut from the end of ${a.name} or the start of ${c.name}`,
    ]);
  });

  it('names a file given twice', () => {
    const report = verify([...files, files[1] as AuditFileInput]);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(
      new RegExp(
        `${(files[1] as AuditFileInput).name.replaceAll('.', '\\.')} \\(seq \\d+\\.\\.\\d+\\) and .* begin at the same entry: the same file given twice`,
      ),
    );
  });

  it('names a file cut at its end (its checkpoint gone), and the broken link to the next', () => {
    const [a, b] = files as [AuditFileInput, AuditFileInput];
    const cut = withLines(a, lines(a).slice(0, -1));
    const report = verify([cut, ...files.slice(1)]);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain(`are missing between ${a.name} and ${b.name}`);
  });

  it('names an edited entry by its file and line', () => {
    const b = files[1] as AuditFileInput;
    const l = lines(b);
    l[2] = (l[2] as string).replace('"id":"r', '"id":"R');
    const report = verify([files[0] as AuditFileInput, withLines(b, l), ...files.slice(2)]);
    expect(report.ok).toBe(false);
    expect(allProblems(report).join('\n')).toContain(
      `${b.name}: line 4: does not chain to the line before it`,
    );
  });

  it('names an edited last line through the next file’s link', () => {
    const [a, b] = files as [AuditFileInput, AuditFileInput];
    const l = lines(a);
    l[l.length - 1] = (l.at(-1) as string).replace('"type":"checkpoint"', '"type":"checkpoint" ');
    const report = verify([withLines(a, l), ...files.slice(1)]);
    expect(report.problems).toContain(
      `${b.name} does not chain to the last line of ${a.name} (seq ${JSON.parse(l.at(-1) as string).seq}): that line was edited, or one of the files was replaced`,
    );
  });

  it('names reordered lines inside a file', () => {
    const b = files[1] as AuditFileInput;
    const l = lines(b);
    [l[2], l[3]] = [l[3] as string, l[2] as string];
    const report = verify([files[0] as AuditFileInput, withLines(b, l), ...files.slice(2)]);
    expect(allProblems(report).join('\n')).toMatch(
      new RegExp(
        `${b.name.replaceAll('.', '\\.')}: line 4: seq \\d+ after \\d+ \\(reordered or duplicated\\)`,
      ),
    );
  });

  it('a missing first file is a problem, a warning when earlier files are allowed', () => {
    const report = verify(files.slice(1));
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatch(
      /^the set begins at seq \d+ \(.+\), continuing entries 1\.\.\d+ that no file given holds and no retention entry records as deleted: a file is missing from the set/,
    );
    const allowed = verify(files.slice(1), true);
    expect(allowed.ok).toBe(true);
    expect(allowed.warnings[0]).toMatch(/^the set begins at seq \d+/);
  });
});
