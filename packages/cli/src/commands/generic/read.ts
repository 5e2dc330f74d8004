import type { ServerFlags } from '../../server-client.js';
import { apiPath, parseDataArgs } from '../../vault/data-args.js';
import type { OutputFlags } from '../../vault/format.js';
import { readAndPrint } from '../../vault/read.js';

type Options = ServerFlags & OutputFlags;

export async function run(path: string, query: string[], options: Options): Promise<number> {
  const target = apiPath(path);
  const params = new URLSearchParams(
    Object.entries(await parseDataArgs(query)).flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map((item): [string, string] => [k, String(item)]),
    ),
  ).toString();
  return readAndPrint(params === '' ? target : `${target}?${params}`, options);
}
