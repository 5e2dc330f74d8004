import { readFile } from 'node:fs/promises';
import { type DataClass, dataClassOf } from '@custos/core/classification';
import { CustosError } from '@custos/core/errors';

/**
 * One encrypted column as a `custos encryption status --json` report describes it, read from
 * the file given with `custos compliance report --encryption-status <file>`. Counts only: no
 * value of the column is in the report.
 */
export interface ColumnEvidence {
  /** The report file it was read from. */
  readonly file: string;
  readonly table: string;
  readonly column: string;
  /** The column holding the tenant id each value is bound to, when there is one. */
  readonly tenantColumn?: string;
  /** The class given with `--data-class`; absent: unclassified. */
  readonly dataClass?: DataClass;
  /** ISO time the status was taken. */
  readonly takenAt: string;
  /** Whether every value was decrypted (a keyring or KMS given, and not `--no-decrypt`). */
  readonly decryptChecked: boolean;
  readonly plaintext: number;
  /** Values failing to decrypt, and damaged envelopes. */
  readonly failing: number;
  /** Values under a current key version. */
  readonly current: number;
  /** Values under an old key version. */
  readonly old: number;
  /** Values whose key version was not judged (no keys were given). */
  readonly unjudged: number;
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** The message of a file that is no status report: names the file and the field, never a value. */
function malformed(file: string, what: string): CustosError {
  return new CustosError(
    'ERR_INVALID_ARGUMENT',
    `${file} is not a \`custos encryption status --json\` report: ${what}`,
  );
}

interface RawVersion {
  current?: unknown;
  values?: unknown;
}

function columnOf(
  file: string,
  report: Record<string, unknown>,
  raw: unknown,
  index: number,
): ColumnEvidence {
  const where = `columns[${index}]`;
  if (typeof raw !== 'object' || raw === null) throw malformed(file, `${where} is not an object`);
  const column = raw as Record<string, unknown>;
  if (typeof column.column !== 'string' || column.column === '') {
    throw malformed(file, `${where}.column is not a name`);
  }
  for (const field of ['plaintext', 'failing', 'malformed', 'nulls'] as const) {
    if (!isCount(column[field])) throw malformed(file, `${where}.${field} is not a count`);
  }
  if (!Array.isArray(column.versions)) throw malformed(file, `${where}.versions is not a list`);
  let current = 0;
  let old = 0;
  let unjudged = 0;
  (column.versions as unknown[]).forEach((entry, i) => {
    const version = (typeof entry === 'object' && entry !== null ? entry : {}) as RawVersion;
    if (!isCount(version.values))
      throw malformed(file, `${where}.versions[${i}].values is not a count`);
    if (version.current === true) current += version.values;
    else if (version.current === false) old += version.values;
    else if (version.current === undefined) unjudged += version.values;
    else throw malformed(file, `${where}.versions[${i}].current is not true or false`);
  });
  let dataClass: DataClass | undefined;
  if (column.data_class !== undefined) {
    dataClass = dataClassOf(column.data_class);
    if (dataClass === undefined || dataClass !== column.data_class) {
      throw malformed(
        file,
        `${where}.data_class is not one of the data classes, canonically spelled`,
      );
    }
  }
  return {
    file,
    table: report.table as string,
    column: column.column,
    ...(typeof report.tenantColumn === 'string' ? { tenantColumn: report.tenantColumn } : {}),
    ...(dataClass === undefined ? {} : { dataClass }),
    takenAt: report.takenAt as string,
    decryptChecked: report.decryptChecked as boolean,
    plaintext: column.plaintext as number,
    failing: (column.failing as number) + (column.malformed as number),
    current,
    old,
    unjudged,
  };
}

/**
 * The columns of a `custos encryption status --json` report. A file that is not one (not
 * JSON, a field missing or of the wrong type, an unknown class) is an `ERR_INVALID_ARGUMENT`
 * naming the file and the field; nothing of its content is repeated.
 *
 * @example
 * ```ts
 * const columns = await readEncryptionStatus('patients-status.json');
 * columns.filter((c) => c.plaintext > 0).map((c) => `${c.table}.${c.column}`);
 * ```
 */
export async function readEncryptionStatus(file: string): Promise<ColumnEvidence[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    // A parse error's message quotes the text: say only that it is not JSON.
    if (err instanceof SyntaxError) throw malformed(file, 'not JSON');
    throw err;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw malformed(file, 'not a JSON object');
  }
  const report = parsed as Record<string, unknown>;
  if (typeof report.table !== 'string' || report.table === '') {
    throw malformed(
      file,
      'table is missing (taken before `custos encryption status` recorded it?)',
    );
  }
  if (typeof report.takenAt !== 'string' || Number.isNaN(Date.parse(report.takenAt))) {
    throw malformed(file, 'takenAt is not a time');
  }
  if (typeof report.decryptChecked !== 'boolean') {
    throw malformed(file, 'decryptChecked is not true or false');
  }
  if (report.tenantColumn !== undefined && typeof report.tenantColumn !== 'string') {
    throw malformed(file, 'tenantColumn is not a name');
  }
  if (!Array.isArray(report.columns) || report.columns.length === 0) {
    throw malformed(file, 'columns is not a list of columns');
  }
  return (report.columns as unknown[]).map((raw, i) => columnOf(file, report, raw, i));
}

/** Reads every file given, in order. */
export async function readEncryptionStatuses(files: readonly string[]): Promise<ColumnEvidence[]> {
  const columns: ColumnEvidence[] = [];
  for (const file of files) columns.push(...(await readEncryptionStatus(file)));
  return columns;
}
