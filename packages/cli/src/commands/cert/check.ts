import { checkCertificateFile } from '@custos/core/tls';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { printChecks } from '../tls/print-checks.js';

interface Options {
  key?: string;
  ca?: string;
  warnDays: number;
  format: 'text' | 'json';
}

export async function run(file: string, options: Options): Promise<number> {
  const report = checkCertificateFile({
    certFile: file,
    warnDays: options.warnDays,
    ...(options.key === undefined ? {} : { keyFile: options.key }),
    ...(options.ca === undefined ? {} : { caFile: options.ca }),
  });
  if (options.format === 'json') print(JSON.stringify(report, null, 2));
  else printChecks(`${file}: ${report.certificate.subject}`, report);
  return report.ok ? ExitCode.ok : ExitCode.finding;
}
