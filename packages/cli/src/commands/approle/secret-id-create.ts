import { ExitCode } from '../../exit-codes.js';
import type { ServerFlags } from '../../server-client.js';
import { parseDataArgs } from '../../vault/data-args.js';
import type { OutputFlags } from '../../vault/format.js';
import { sendData } from '../../vault/send.js';
import { rolePath } from './role-path.js';

interface Options extends ServerFlags, OutputFlags {
  mount: string;
}

export async function run(role: string, metadata: string[], options: Options): Promise<number> {
  const meta = await parseDataArgs(metadata);
  await sendData(
    'POST',
    rolePath(options.mount, role, 'secret-id'),
    Object.keys(meta).length === 0 ? {} : { metadata: meta },
    options,
  );
  return ExitCode.ok;
}
