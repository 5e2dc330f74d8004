import { ExitCode } from '../../exit-codes.js';
import type { ServerFlags } from '../../server-client.js';
import { parseDataArgs } from '../../vault/data-args.js';
import { sendData } from '../../vault/send.js';
import { rolePath } from './role-path.js';

interface Options extends ServerFlags {
  mount: string;
}

export async function run(name: string, settings: string[], options: Options): Promise<number> {
  await sendData('POST', rolePath(options.mount, name), await parseDataArgs(settings), options);
  return ExitCode.ok;
}
