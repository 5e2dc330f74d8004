import type { ServerFlags } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { readAndPrint } from '../../vault/read.js';
import { rolePath } from './role-path.js';

interface Options extends ServerFlags, OutputFlags {
  mount: string;
}

export async function run(name: string, options: Options): Promise<number> {
  return readAndPrint(rolePath(options.mount, name, 'role-id'), options);
}
