import { ExitCode } from '../../exit-codes.js';
import { warn } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { apiPath, parseDataArgs } from '../../vault/data-args.js';
import type { OutputFlags } from '../../vault/format.js';
import { printResponse, type VaultResponse } from '../../vault/response.js';

type Options = ServerFlags & OutputFlags;

export async function run(path: string, query: string[], options: Options): Promise<number> {
  const target = apiPath(path);
  const params = new URLSearchParams(
    Object.entries(await parseDataArgs(query)).flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map((item): [string, string] => [k, String(item)]),
    ),
  ).toString();
  const { status, body } = await serverClient(options).request(
    'GET',
    params === '' ? target : `${target}?${params}`,
    { allowStatus: [404] },
  );
  if (status === 404 || body === null) {
    warn(`No value found at ${target}`);
    return ExitCode.error;
  }
  printResponse(body as VaultResponse, options, target);
  return ExitCode.ok;
}
