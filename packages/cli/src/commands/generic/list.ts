import { ExitCode } from '../../exit-codes.js';
import { warn } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { apiPath } from '../../vault/data-args.js';
import type { OutputFlags } from '../../vault/format.js';
import { printKeys } from '../../vault/response.js';

type Options = ServerFlags & OutputFlags;

export async function run(path: string, options: Options): Promise<number> {
  const target = apiPath(path).replace(/\/+$/, '');
  const { status, body } = await serverClient(options).request('GET', `${target}?list=true`, {
    allowStatus: [404],
  });
  const keys = (body as { data?: { keys?: unknown } } | null)?.data?.keys;
  if (status === 404 || !Array.isArray(keys)) {
    warn(`No value found at ${target}/`);
    return ExitCode.error;
  }
  printKeys(keys.map(String), options);
  return ExitCode.ok;
}
