import { readFile } from 'node:fs/promises';
import { parseDurationSeconds } from '@custos/core/duration';
import { CustosError } from '@custos/core/errors';
import { type FileStart, type VerifyOptions, verifyAuditLog } from '@custos/server/audit-verify';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

interface Options extends ServerFlags {
  publicKey?: string;
  server: boolean;
  sink: string;
  clockSkew: string;
  format: string;
}

export async function run(file: string, options: Options): Promise<number> {
  const clockSkewMs = parseDurationSeconds(options.clockSkew, '--clock-skew') * 1000;
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `cannot read ${file}: ${err.code ?? err.message}`,
    );
  });
  const publicKey =
    options.publicKey === undefined
      ? undefined
      : (await readFile(options.publicKey, 'utf8')).trim();
  const server = options.server ? await serverRecords(options) : undefined;
  const report = verifyAuditLog(text, {
    clockSkewMs,
    ...(publicKey === undefined ? {} : { publicKey }),
    ...server,
  });
  if (options.format === 'json') {
    print(JSON.stringify(report, null, 2));
  } else {
    for (const problem of report.problems) warn(`problem: ${problem}`);
    for (const warning of report.warnings) warn(`warning: ${warning}`);
    for (const note of report.notes) warn(`note: ${note}`);
    const range = (from: number | undefined, to: number | undefined) =>
      from === undefined || to === undefined ? 'none' : `seq ${from}..${to}`;
    print(
      report.ok
        ? `${file}: intact — ${report.entries} entries, ${range(report.firstSeq, report.lastSeq)}`
        : `${file}: ${report.problems.length} problem(s) found`,
    );
    // What a signature covers and what it does not, said every time (see docs/server-api.md).
    print(`  signed by checkpoints: ${range(report.firstSeq, report.lastCheckpointSeq)}`);
    if (report.unsigned !== undefined)
      print(`  not signed yet:        ${range(report.unsigned.from, report.unsigned.to)}`);
    print(
      `  end of the file:       ${report.closed ? 'closed by the server' : 'not closed by the server'}`,
    );
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
