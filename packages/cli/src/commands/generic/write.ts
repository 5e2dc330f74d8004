import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import type { ServerFlags } from '../../server-client.js';
import { apiPath, parseDataArgs } from '../../vault/data-args.js';
import type { OutputFlags } from '../../vault/format.js';
import { sendData } from '../../vault/send.js';

/** The options of `custos write` and `custos patch`. */
export interface WriteOptions extends ServerFlags, OutputFlags {
  force?: boolean;
}

/** Sends the data of `args` to `path` with `method`, as `vault write` / `vault patch`. */
export async function send(
  method: 'POST' | 'PATCH',
  path: string,
  args: string[],
  options: WriteOptions,
): Promise<number> {
  if (args.length === 0 && options.force !== true) {
    throw new CustosError('ERR_INVALID_ARGUMENT', 'must supply data or use -force');
  }
  await sendData(method, apiPath(path), await parseDataArgs(args), options);
  return ExitCode.ok;
}

export async function run(path: string, args: string[], options: WriteOptions): Promise<number> {
  return send('POST', path, args, options);
}
