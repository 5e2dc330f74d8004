import { readFile } from 'node:fs/promises';
import { parseDurationSeconds } from '@custos/core/duration';
import { CustosError } from '@custos/core/errors';
import {
  type AuditVerification,
  type FileStart,
  type VerifyOptions,
  verifyAuditLog,
} from '@custos/server/audit-verify';
import { type AuditSetVerification, verifyAuditFiles } from '@custos/server/audit-verify-files';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

interface Options extends ServerFlags {
  publicKey?: string;
  server: boolean;
  sink: string;
  clockSkew: string;
  format: string;
  allowEarlierFiles: boolean;
}

export async function run(files: string[], options: Options): Promise<number> {
  const clockSkewMs = parseDurationSeconds(options.clockSkew, '--clock-skew') * 1000;
  const texts = await Promise.all(
    files.map((file) =>
      readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new CustosError(
          'ERR_INVALID_ARGUMENT',
          `cannot read ${file}: ${err.code ?? err.message}`,
        );
      }),
    ),
  );
  const publicKey =
    options.publicKey === undefined
      ? undefined
      : (await readFile(options.publicKey, 'utf8')).trim();
  const server = options.server ? await serverRecords(options) : undefined;
  const verifyOptions: VerifyOptions = {
    clockSkewMs,
    ...(publicKey === undefined ? {} : { publicKey }),
    ...server,
  };
  if (files.length > 1)
    return reportSet(
      verifyAuditFiles(
        files.map((name, i) => ({ name, text: texts[i] as string })),
        { ...verifyOptions, allowEarlierFiles: options.allowEarlierFiles },
      ),
      options.format,
    );
  const file = files[0] as string;
  const report = verifyAuditLog(texts[0] as string, verifyOptions);
  if (options.format === 'json') {
    print(JSON.stringify(report, null, 2));
  } else {
    for (const problem of report.problems) warn(`problem: ${problem}`);
    for (const warning of report.warnings) warn(`warning: ${warning}`);
    for (const note of report.notes) warn(`note: ${note}`);
    print(
      report.ok
        ? `${file}: intact — ${report.entries} entries, ${range(report.firstSeq, report.lastSeq)}`
        : `${file}: ${report.problems.length} problem(s) found`,
    );
    printCoverage(report);
  }
  return report.ok ? ExitCode.ok : ExitCode.finding;
}

const range = (from: number | undefined, to: number | undefined) =>
  from === undefined || to === undefined ? 'none' : `seq ${from}..${to}`;

/** What a signature covers and what it does not, said every time (see docs/server-api.md). */
function printCoverage(report: AuditVerification): void {
  print(`  signed by checkpoints: ${range(report.firstSeq, report.lastCheckpointSeq)}`);
  if (report.unsigned !== undefined)
    print(`  not signed yet:        ${range(report.unsigned.from, report.unsigned.to)}`);
  const end = report.closed
    ? 'closed by the server'
    : report.movedAside
      ? 'moved aside at the checkpoint the next file chains to'
      : 'not closed by the server';
  print(`  end of the file:       ${end}`);
}

/** A set of files: each file's findings under its name, then the set's, then a summary. */
function reportSet(report: AuditSetVerification, format: string): number {
  if (format === 'json') {
    print(JSON.stringify(report, null, 2));
  } else {
    for (const file of report.files) {
      for (const problem of file.problems) warn(`problem: ${file.name}: ${problem}`);
      for (const warning of file.warnings) warn(`warning: ${file.name}: ${warning}`);
      for (const note of file.notes) warn(`note: ${file.name}: ${note}`);
    }
    for (const problem of report.problems) warn(`problem: ${problem}`);
    for (const warning of report.warnings) warn(`warning: ${warning}`);
    for (const note of report.notes) warn(`note: ${note}`);
    const count = report.problems.length + report.files.reduce((n, f) => n + f.problems.length, 0);
    print(
      report.ok
        ? `${report.files.length} files: intact, one chain — ${range(report.firstSeq, report.lastSeq)}`
        : `${report.files.length} files: ${count} problem(s) found`,
    );
    for (const file of report.files) print(`  ${file.name}: ${range(file.firstSeq, file.lastSeq)}`);
    const current = report.files.filter((f) => f.lastSeq !== undefined).at(-1);
    if (current !== undefined) {
      print(`  last file (${current.name}):`);
      printCoverage(current);
    }
  }
  return report.ok ? ExitCode.ok : ExitCode.finding;
}

/** The sink's latest checkpoint and file starts, as the server recorded them. */
async function serverRecords(options: Options): Promise<VerifyOptions> {
  const { sink } = options;
  const { body } = await serverClient(options).request('GET', 'sys/audit/checkpoints');
  const data = (body as { data: ServerState }).data;
  const latest = data.checkpoints.find((c) => c.sink === sink);
  const files = data.files?.[sink] ?? [];
  if (latest === undefined && files.length === 0)
    throw new CustosError('ERR_NOT_FOUND', `the server has no record of audit sink ${sink}`);
  return {
    ...(latest === undefined ? {} : { expectedCheckpoint: { seq: latest.seq, hash: latest.hash } }),
    fileStarts: files,
  };
}

interface ServerState {
  checkpoints: { sink: string; seq: number; hash: string }[];
  files?: Record<string, FileStart[]>;
}
