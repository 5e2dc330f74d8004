import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { createProgress } from '../../progress.js';
import { type CipherFlags, loadCipher } from '../reencrypt/cipher.js';
import { openTargetDatabase } from '../reencrypt/database.js';
import { splitList, type TargetFlags, targetFrom } from '../reencrypt/target.js';
import { columnClasses } from './data-class.js';

interface Options extends TargetFlags, CipherFlags {
  decrypt: boolean;
  indexColumns?: string;
  requireCurrent: boolean;
  dataClass?: string[];
  json: boolean;
}

export async function run(options: Options): Promise<number> {
  const { encryptionStatus } = await import('@custos/reencrypt');
  const { target, binding } = targetFrom(options);
  // Checked before anything is opened: a wrong class is a usage error (exit 2).
  const classes = columnClasses(options.dataClass ?? [], target.columns);
  const loaded = await loadCipher(options);
  const cipher = loaded?.cipher;
  let database: Awaited<ReturnType<typeof openTargetDatabase>>;
  try {
    database = await openTargetDatabase(options.db);
  } catch (err) {
    await loaded?.close();
    throw err;
  }
  const progress = createProgress(`status ${options.table}`);
  try {
    const status = await encryptionStatus({
      db: database.db,
      target,
      ...binding,
      ...(cipher === undefined ? {} : { cipher }),
      decrypt: options.decrypt,
      indexColumns: splitList(options.indexColumns, '--index-columns'),
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.stop();
    const takenAt = new Date().toISOString();
    if (options.json) {
      const report = {
        table: options.table,
        ...(options.tenantColumn === undefined ? {} : { tenantColumn: options.tenantColumn }),
        takenAt,
        ...status,
        columns: status.columns.map((c) => {
          const dataClass = classes.get(c.column);
          return dataClass === undefined ? c : { ...c, data_class: dataClass };
        }),
      };
      print(JSON.stringify(report, null, 2));
    } else {
      print(`${status.rows} rows in ${database.description} at ${takenAt}`);
      for (const column of status.columns) {
        const dataClass = classes.get(column.column);
        print(
          `${options.table}.${column.column}${dataClass === undefined ? '' : ` (${dataClass})`}:`,
        );
        for (const v of column.versions) {
          const name = v.keyName ?? `key ${v.keyId}`;
          const mode = v.deterministic ? ' deterministic' : '';
          const current = v.current === undefined ? '' : v.current ? ' (current)' : ' (old)';
          print(`  ${name} v${v.keyVersion}${mode}${current}: ${v.values}`);
        }
        print(`  plaintext: ${column.plaintext}`);
        print(`  null: ${column.nulls}`);
        if (column.malformed > 0) print(`  damaged envelopes: ${column.malformed}`);
        print(
          status.decryptChecked
            ? `  failing to decrypt: ${column.failing}`
            : '  failing to decrypt: not checked (pass --keyring, --transit-key or --kms-env)',
        );
      }
      for (const index of status.indexes ?? []) {
        print(`${options.table}.${index.column} (blind index):`);
        for (const v of index.versions) {
          const name = v.kind === 'legacy' ? 'legacy (encryption key)' : options.blindIndexKeyName;
          const current = v.current === undefined ? '' : v.current ? ' (current)' : ' (old)';
          print(`  ${name} v${v.keyVersion}${current}: ${v.values}`);
        }
        print(`  null: ${index.nulls}`);
        if (index.unrecognised > 0) print(`  not a blind index: ${index.unrecognised}`);
      }
    }
    const broken = status.columns.some((c) => c.failing > 0 || c.malformed > 0);
    const outdated =
      status.columns.some((c) => c.plaintext > 0 || c.versions.some((v) => v.current !== true)) ||
      (status.indexes ?? []).some(
        (i) => i.unrecognised > 0 || i.versions.some((v) => v.current !== true),
      );
    return broken || (options.requireCurrent && outdated) ? ExitCode.finding : ExitCode.ok;
  } finally {
    progress.stop();
    await database.close();
    await loaded?.close();
  }
}
