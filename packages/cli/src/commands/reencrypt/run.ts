import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { createProgress, type Progress } from '../../progress.js';
import {
  type BlindIndexFlags,
  blindIndexesFrom,
  retireOldBlindIndexVersions,
} from './blind-index-flags.js';
import { type CipherFlags, loadCipher } from './cipher.js';
import { openTargetDatabase } from './database.js';
import { splitList, type TargetFlags, targetFrom } from './target.js';

interface Options extends TargetFlags, CipherFlags, BlindIndexFlags {
  batch: string;
  dryRun: boolean;
  encryptPlaintext: boolean;
  deterministic?: string;
  padBlock?: string;
  verify: boolean;
  json: boolean;
}

export async function run(options: Options): Promise<number> {
  const { reencryptTable } = await import('@custos/reencrypt');
  const { target, binding } = targetFrom(options);
  const blindIndexes = blindIndexesFrom(options, target.columns);
  if (
    options.retireOldVersions &&
    (options.keyring === undefined || options.dryRun || !options.verify)
  ) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      '--retire-old-versions needs --keyring (the file it retires versions in) and a verified run (no --dry-run, no --no-verify)',
    );
  }
  const loaded = await loadCipher(options);
  if (loaded === undefined) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'pass the keys the application uses: --keyring <file>, or --transit-key <name> or --kms-env (KMS mode)',
    );
  }
  const { cipher } = loaded;
  let database: Awaited<ReturnType<typeof openTargetDatabase>>;
  try {
    database = await openTargetDatabase(options.db);
  } catch (err) {
    await loaded.close();
    throw err;
  }
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let progress: { phase: string; bar: Progress } | undefined;
  try {
    const report = await reencryptTable({
      db: database.db,
      cipher,
      target,
      ...binding,
      batchSize: integer(options.batch, '--batch'),
      dryRun: options.dryRun,
      encryptPlaintext: options.encryptPlaintext,
      deterministicColumns: splitList(options.deterministic, '--deterministic'),
      ...(options.padBlock === undefined
        ? {}
        : { padding: { blockBytes: integer(options.padBlock, '--pad-block') } }),
      verify: options.verify,
      ...(blindIndexes === undefined ? {} : { blindIndexes }),
      signal: controller.signal,
      onProgress: ({ phase, rowsDone, rowsTotal }) => {
        if (progress?.phase !== phase) {
          progress?.bar.stop();
          progress = { phase, bar: createProgress(`${phase} ${options.table}`) };
        }
        progress.bar.update(rowsDone, rowsTotal);
      },
    });
    progress?.bar.stop();
    const { stats } = report;
    if (options.json) print(JSON.stringify(report, null, 2));
    else if (blindIndexes !== undefined) {
      print(
        `${options.dryRun ? 'dry run: ' : ''}${stats.rows} rows in ${database.description}${report.resumed ? ' (resumed)' : ''}: ${stats.reencrypted} blind indexes rewritten, ${stats.current} already current, ${stats.nulls} null, ${stats.plaintext} plaintext values (no index written), ${stats.failed} failing, ${stats.conflicts} rows changed by the application meanwhile (kept)`,
      );
      if (!options.dryRun && options.verify) {
        print(
          `verified: ${stats.verified} indexes current and recomputed equal, ${stats.verifyFailed} not`,
        );
      }
    } else {
      print(
        `${options.dryRun ? 'dry run: ' : ''}${stats.rows} rows in ${database.description}${report.resumed ? ' (resumed)' : ''}: ${stats.reencrypted} values re-encrypted, ${stats.encrypted} encrypted, ${stats.current} already current, ${stats.nulls} null, ${stats.plaintext} plaintext left, ${stats.failed} failing, ${stats.conflicts} rows changed by the application meanwhile (kept)`,
      );
      if (!options.dryRun && options.verify) {
        print(
          `verified: ${stats.verified} values decrypt under the primary, ${stats.verifyFailed} do not, ${stats.verifyPlaintext} plaintext`,
        );
      }
    }
    if (stats.plaintext > 0 && !options.encryptPlaintext) {
      warn(
        `custos: ${stats.plaintext} plaintext values left; add --encrypt-plaintext to encrypt them`,
      );
    }
    if (report.complete && options.retireOldVersions) {
      const version = (await cipher.currentKeys()).blindIndex?.keyVersion as number;
      const retired = await retireOldBlindIndexVersions(
        options.keyring as string,
        options.blindIndexKeyName,
        version,
      );
      print(
        retired.length === 0
          ? `"${options.blindIndexKeyName}" has no older version to retire`
          : `retired "${options.blindIndexKeyName}" ${retired.map((v) => `v${v}`).join(', ')} (disabled): reload the keyring in every application instance; lookups now compute one index`,
      );
    }
    if (options.dryRun || !options.verify || report.complete) return ExitCode.ok;
    if (options.retireOldVersions) {
      warn('custos: older blind-index key versions kept: some rows are not done');
    }
    warn(
      'custos: verification found values that fail to decrypt or are not under the primary; see custos encryption status [ERR_REENCRYPT_INCOMPLETE]',
    );
    return ExitCode.finding;
  } catch (err) {
    progress?.bar.stop();
    if (controller.signal.aborted) {
      warn('custos: interrupted; the checkpoint is saved, run the same command again to resume');
      return ExitCode.error;
    }
    throw err;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await database.close();
    await loaded.close();
  }
}

function integer(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new CustosError('ERR_INVALID_ARGUMENT', `${flag} must be a positive integer`);
  }
  return n;
}
