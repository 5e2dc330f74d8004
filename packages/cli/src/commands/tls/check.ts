import { CustosError } from '@custos/core/errors';
import { checkTlsEndpoint } from '@custos/core/tls';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { printChecks } from './print-checks.js';

interface Options {
  servername?: string;
  ca?: string;
  warnDays: number;
  format: 'text' | 'json';
}

export async function run(endpoint: string, options: Options): Promise<number> {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(endpoint);
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65535) {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'the endpoint must be host:port ([address]:port for IPv6)',
    );
  }
  const report = await checkTlsEndpoint({
    host: (match[1] ?? match[2]) as string,
    port,
    warnDays: options.warnDays,
    ...(options.servername === undefined ? {} : { servername: options.servername }),
    ...(options.ca === undefined ? {} : { caFile: options.ca }),
  });
  if (options.format === 'json') print(JSON.stringify(report, null, 2));
  else printChecks(`${endpoint} (${report.servername})`, report);
  return report.ok ? ExitCode.ok : ExitCode.finding;
}
