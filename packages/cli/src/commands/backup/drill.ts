import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CustosError, isCustosError } from '@custos/core/errors';
import { decryptIterable } from '@custos/core/stream';
import { recordDrill } from '@custos/server/compliance';
import { ExitCode } from '../../exit-codes.js';
import { print, reportError } from '../../output.js';
import { inputOf } from './io.js';
import { type IdentityFlags, identitiesOf } from './keys.js';
import {
  createScratchDatabase,
  dropScratchDatabase,
  restoreDump,
  type ScratchDatabase,
} from './scratch-database.js';

interface Options extends IdentityFlags {
  expectSha256?: string;
  restoreInto?: string;
  keepDatabase: boolean;
  scratchDir?: string;
  json: boolean;
  /** Append the outcome to this drill log (docs/backups.md), passed or failed. */
  record?: string;
}

/** What makes a drill fail (exit 1), as opposed to a usage mistake or a missing key (exit 2). */
const FAILED = [
  'ERR_DECRYPTION_FAILED',
  'ERR_BACKUP_TRUNCATED',
  'ERR_MALFORMED_CIPHERTEXT',
  'ERR_BACKUP_DRILL_FAILED',
];

interface Report {
  input: string;
  plaintextBytes: number;
  sha256: string;
  digestChecked: boolean;
  restore?: {
    database: string;
    server: string;
    format: string;
    tables: number;
    rows: number;
    kept: boolean;
  };
}

/**
 * Decrypts a backup into a scratch directory (mode 0700, removed afterwards), hashing the
 * plaintext on the way; checks the SHA-256 against `--expect-sha256`; with `--restore-into`,
 * restores the dump into a new scratch database on that server, counts its tables and rows, and
 * drops it. Exit 0 when everything held, 1 when the drill found a problem.
 */
export async function run(input: string | undefined, options: Options): Promise<number> {
  const expected = options.expectSha256?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new CustosError('ERR_INVALID_ARGUMENT', '--expect-sha256 takes 64 hex digits');
  }
  const identities = await identitiesOf(options);
  const scratch = await mkdtemp(join(options.scratchDir ?? tmpdir(), 'custos-drill-'));
  let database: ScratchDatabase | undefined;
  try {
    const plain = join(scratch, 'plaintext');
    const hash = createHash('sha256');
    let plaintextBytes = 0;
    await pipeline(
      decryptIterable(inputOf(input), { identities }),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const piece of source) {
          hash.update(piece);
          plaintextBytes += piece.length;
          yield piece;
        }
      },
      createWriteStream(plain, { mode: 0o600, flags: 'wx' }),
    );
    const sha256 = hash.digest('hex');
    const report: Report = {
      input: input ?? 'standard input',
      plaintextBytes,
      sha256,
      digestChecked: expected !== undefined,
    };
    if (expected !== undefined && expected !== sha256) {
      throw new CustosError(
        'ERR_BACKUP_DRILL_FAILED',
        `the plaintext's SHA-256 is ${sha256}, not the expected ${expected}: this backup holds other data`,
      );
    }
    if (options.restoreInto !== undefined) {
      database = await createScratchDatabase(options.restoreInto);
      const restored = await restoreDump(database, plain);
      report.restore = {
        database: database.name,
        server: database.where,
        ...restored,
        kept: options.keepDatabase,
      };
    }
    if (options.record !== undefined) {
      await recordDrill(options.record, {
        time: new Date().toISOString(),
        input: report.input,
        result: 'passed',
        plaintextBytes,
        digestChecked: report.digestChecked,
        ...(report.restore === undefined
          ? {}
          : {
              restore: {
                format: report.restore.format,
                tables: report.restore.tables,
                rows: report.restore.rows,
              },
            }),
      });
    }
    printReport(report, options.json);
    return ExitCode.ok;
  } catch (err) {
    if (!isCustosError(err) || !FAILED.includes(err.code)) throw err;
    if (options.record !== undefined) {
      await recordDrill(options.record, {
        time: new Date().toISOString(),
        input: input ?? 'standard input',
        result: 'failed',
        problem: err.code,
      });
    }
    reportError(new CustosError(err.code, `drill failed: ${err.message}`));
    return ExitCode.finding;
  } finally {
    if (database !== undefined && !options.keepDatabase && options.restoreInto !== undefined) {
      await dropScratchDatabase(database, options.restoreInto);
    }
    await rm(scratch, { recursive: true, force: true });
  }
}

function printReport(report: Report, json: boolean): void {
  if (json) {
    print(JSON.stringify(report, null, 2));
    return;
  }
  print(`drill passed: ${report.input}`);
  print(`  decrypted and authenticated ${report.plaintextBytes} bytes`);
  print(`  sha256 ${report.sha256}${report.digestChecked ? ' (as expected)' : ''}`);
  const restore = report.restore;
  if (restore !== undefined) {
    print(
      `  restored (${restore.format} dump) into ${restore.database} on ${restore.server}: ${restore.tables} table${restore.tables === 1 ? '' : 's'}, ${restore.rows} row${restore.rows === 1 ? '' : 's'}`,
    );
    print(restore.kept ? `  kept database ${restore.database}` : '  dropped the scratch database');
  }
}
