import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';

interface Options {
  config: string;
  channel?: string;
  rule?: string;
  format: 'text' | 'json';
}

export async function run(options: Options): Promise<number> {
  const server = await import('@custos/server');
  const config = await server.readServerConfig(options.config);
  if (config.alerts === undefined)
    throw new CustosError('ERR_INVALID_ARGUMENT', `${options.config} has no "alerts" section`);
  const results = await server.sendTestAlert(config.alerts, {
    ...(options.channel === undefined ? {} : { channel: options.channel }),
    ...(options.rule === undefined ? {} : { rule: options.rule }),
  });
  const failed = results.filter((r) => !r.delivered);
  if (options.format === 'json')
    print(JSON.stringify({ ok: failed.length === 0, results }, null, 2));
  else
    for (const r of results)
      if (r.delivered) print(`${r.channel} (${r.type}): delivered`);
      else warn(`${r.channel} (${r.type}): failed: ${r.reason}`);
  return failed.length === 0 ? ExitCode.ok : ExitCode.finding;
}
