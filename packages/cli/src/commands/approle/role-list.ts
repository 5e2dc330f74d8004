import { ExitCode } from '../../exit-codes.js';
import { warn } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { printKeys } from '../../vault/response.js';

interface Options extends ServerFlags, OutputFlags {
  mount: string;
}

export async function run(options: Options): Promise<number> {
  const path = `auth/${options.mount.replace(/^\/+|\/+$/g, '')}/role`;
  const { status, body } = await serverClient(options).request('GET', `${path}?list=true`, {
    allowStatus: [404],
  });
  const keys = (body as { data?: { keys?: unknown } } | null)?.data?.keys;
  if (status === 404 || !Array.isArray(keys)) {
    warn(`No value found at ${path}/`);
    return ExitCode.error;
  }
  printKeys(keys.map(String), options);
  return ExitCode.ok;
}
