import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';
import { secretPath } from './secret-path.js';

type Options = ServerFlags & OutputFlags & { reason?: string };

interface Abandoned {
  id: string;
  secret: string;
  background?: string;
}

/**
 * `custos rotation abandon <mount>/<path> --reason "…"`: ends the background work of the
 * secret's last rotation (a rewrap that can never succeed) as abandoned
 * (`POST sys/rotation-abandon/…`, sudo). The secret may rotate again; the value that rotation
 * replaced is never retired automatically (docs/rotation.md). Exit 0 abandoned, 2 nothing to
 * abandon, no permission, or a usage error.
 */
export async function run(secret: string, options: Options): Promise<number> {
  const format = outputFormat(options);
  const reason = options.reason?.trim() ?? '';
  if (reason === '')
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'abandon needs --reason "…" (it is recorded in the history and the audit log)',
    );
  const path = secretPath(secret);
  const { body } = await serverClient(options).request('POST', `sys/rotation-abandon/${path}`, {
    body: { reason },
  });
  const data = (body as { data: Abandoned }).data;
  if (format === 'json') print(JSON.stringify(data, null, 2));
  else
    print(
      `Abandoned the background work of ${data.secret} (rotation ${data.id}). The value it replaced is not retired automatically: retire it yourself once nothing needs it (docs/rotation.md, "Abandoning background work").`,
    );
  return ExitCode.ok;
}
