import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import type { OutputFlags } from '../../vault/format.js';
import { printResponse, type VaultResponse } from '../../vault/response.js';

interface Options extends ServerFlags, OutputFlags {
  policy?: string[];
  ttl?: string;
  explicitMaxTtl?: string;
  period?: string;
  type?: string;
  role?: string;
  displayName?: string;
  useLimit?: string;
  numUses?: string;
  metadata?: string[];
  id?: string;
  orphan?: boolean;
  renewable?: boolean;
  defaultPolicy: boolean;
}

function metadataOf(pairs: readonly string[]): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CustosError('ERR_INVALID_ARGUMENT', '-metadata expects key=value');
    meta[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return meta;
}

export async function run(options: Options): Promise<number> {
  const uses = options.useLimit ?? options.numUses;
  const body = {
    ...(options.policy === undefined ? {} : { policies: options.policy }),
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    ...(options.explicitMaxTtl === undefined ? {} : { explicit_max_ttl: options.explicitMaxTtl }),
    ...(options.period === undefined ? {} : { period: options.period }),
    ...(options.type === undefined ? {} : { type: options.type }),
    ...(options.displayName === undefined ? {} : { display_name: options.displayName }),
    ...(uses === undefined ? {} : { num_uses: uses }),
    ...(options.metadata === undefined ? {} : { meta: metadataOf(options.metadata) }),
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.orphan === true ? { no_parent: true } : {}),
    ...(options.renewable === undefined ? {} : { renewable: options.renewable }),
    ...(options.defaultPolicy ? {} : { no_default_policy: true }),
  };
  // The role name goes into the path as one segment: the server refuses any other spelling.
  const path =
    options.role === undefined
      ? 'auth/token/create'
      : `auth/token/create/${encodeURIComponent(options.role)}`;
  const { body: response } = await serverClient(options).request('POST', path, { body });
  printResponse(response as VaultResponse, options, path);
  return ExitCode.ok;
}
