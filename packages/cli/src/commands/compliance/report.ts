import { readFile, writeFile } from 'node:fs/promises';
import { CustosError } from '@custos/core/errors';
import { type Framework, gatherEvidence, judgeControls } from '@custos/server/compliance';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { printPdf } from './pdf.js';
import { renderHtml } from './render-html.js';
import { renderText } from './render-text.js';

interface Options extends ServerFlags {
  framework: Framework;
  control?: string;
  format: 'text' | 'json' | 'html' | 'pdf';
  out?: string;
  auditFile?: string[];
  auditPublicKey?: string;
  scanReport?: string;
  drillLog?: string[];
  encryptionStatus?: string[];
  cert?: string[];
  ca?: string;
}

/** `custos compliance report`: evidence from the live server, judged control by control. */
export async function run(options: Options): Promise<number> {
  if (options.format === 'pdf' && options.out === undefined) {
    throw new CustosError('ERR_INVALID_ARGUMENT', '--format pdf needs --out <file>');
  }
  const now = new Date();
  const auditPublicKey =
    options.auditPublicKey === undefined
      ? undefined
      : (await readFile(options.auditPublicKey, 'utf8')).trim();
  const evidence = await gatherEvidence(serverClient(options), {
    auditFiles: options.auditFile ?? [],
    ...(auditPublicKey === undefined ? {} : { auditPublicKey }),
    ...(options.ca === undefined ? {} : { caFile: options.ca }),
    ...(options.scanReport === undefined ? {} : { scanReport: options.scanReport }),
    drillLogs: options.drillLog ?? [],
    certificateFiles: options.cert ?? [],
    encryptionStatusFiles: options.encryptionStatus ?? [],
    now,
  });
  const report = judgeControls(evidence, options.framework, now, options.control);
  if (report.controls.length === 0) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      `no control ${options.control ?? ''} in ${options.framework}: see docs/compliance.md for the list`,
    );
  }
  if (options.format === 'pdf') {
    await printPdf(renderHtml(report), options.out as string);
  } else {
    const text =
      options.format === 'json'
        ? JSON.stringify(report, null, 2)
        : options.format === 'html'
          ? renderHtml(report)
          : renderText(report);
    if (options.out === undefined) print(text);
    else await writeFile(options.out, `${text}\n`);
  }
  return report.controls.some((c) => c.status === 'fail') ? ExitCode.finding : ExitCode.ok;
}
