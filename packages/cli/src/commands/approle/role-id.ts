import type { ServerFlags } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { readPath } from './read-path.js';
import { rolePath } from './role-path.js';

interface Options extends ServerFlags, OutputFlags {
  mount: string;
}

export async function run(name: string, options: Options): Promise<number> {
  return readPath(rolePath(options.mount, name, 'role-id'), options);
}
