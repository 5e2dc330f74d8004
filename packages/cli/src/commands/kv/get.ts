import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { kvPath } from './pairs.js';

interface Options extends ServerFlags {
  mount: string;
  version?: number;
  field?: string;
  format: string;
}

export async function run(path: string, options: Options): Promise<number> {
  const query = options.version === undefined ? '' : `?version=${options.version}`;
  const { status, body } = await serverClient(options).request(
    'GET',
    kvPath(options.mount, 'data', path) + query,
    { allowStatus: [404] },
  );
  const payload = (
    body as {
      data?: { data: Record<string, unknown> | null; metadata?: Record<string, unknown> };
    } | null
  )?.data;
  if (status === 404) {
    const meta = payload?.metadata;
    if (meta === undefined)
      throw new CustosError('ERR_NOT_FOUND', `no secret at ${options.mount}/${path}`);
    const why = meta.destroyed ? 'destroyed' : 'deleted';
    throw new CustosError(
      'ERR_NOT_FOUND',
      `version ${meta.version} of ${options.mount}/${path} is ${why}`,
    );
  }
  const data = payload?.data ?? {};
  if (options.field !== undefined) {
    if (!(options.field in data))
      throw new CustosError(
        'ERR_NOT_FOUND',
        `no field "${options.field}" in ${options.mount}/${path}`,
      );
    const value = data[options.field];
    print(typeof value === 'string' ? value : JSON.stringify(value));
    return ExitCode.ok;
  }
  if (options.format === 'json') {
    print(JSON.stringify(body, null, 2));
    return ExitCode.ok;
  }
  print(`version ${payload?.metadata?.version}  created ${payload?.metadata?.created_time}`);
  for (const [key, value] of Object.entries(data)) {
    print(`${key}\t${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  return ExitCode.ok;
}
