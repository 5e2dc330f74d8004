import { appendFile, readFile } from 'node:fs/promises';

/**
 * One drill, as `custos backup drill --record <file>` appends it (a JSON line) and
 * `custos compliance report --drill-log <file>` reads it. No key, no plaintext and no digest:
 * what was drilled, when, and how it ended.
 */
export interface DrillRecord {
  /** ISO time the drill ended. */
  readonly time: string;
  readonly input: string;
  readonly result: 'passed' | 'failed';
  /** The error code of a failed drill (`ERR_BACKUP_DRILL_FAILED`, `ERR_DECRYPTION_FAILED`, …). */
  readonly problem?: string;
  readonly plaintextBytes?: number;
  readonly digestChecked?: boolean;
  readonly restore?: { readonly format: string; readonly tables: number; readonly rows: number };
}

/**
 * Appends `record` to the drill log `file` (created with mode 0600 when missing).
 *
 * @example
 * ```ts
 * await recordDrill('drills.jsonl', { time: new Date().toISOString(), input: 'db.cbk', result: 'passed' });
 * ```
 */
export async function recordDrill(file: string, record: DrillRecord): Promise<void> {
  await appendFile(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

/**
 * The drills of a drill log, oldest first. A line that is not a drill record is an error
 * naming the file and line: evidence is never read past what it says.
 *
 * @example
 * ```ts
 * const latest = (await readDrillLog('drills.jsonl')).at(-1);
 * ```
 */
export async function readDrillLog(file: string): Promise<DrillRecord[]> {
  const records: DrillRecord[] = [];
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const record = parsed as Partial<DrillRecord> | undefined;
    if (
      typeof record !== 'object' ||
      record === null ||
      typeof record.time !== 'string' ||
      Number.isNaN(Date.parse(record.time)) ||
      typeof record.input !== 'string' ||
      (record.result !== 'passed' && record.result !== 'failed')
    ) {
      throw new TypeError(`${file}:${i + 1} is not a \`custos backup drill --record\` line`);
    }
    records.push(record as DrillRecord);
  });
  return records.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}
