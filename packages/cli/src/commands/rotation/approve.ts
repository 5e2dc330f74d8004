import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';

type Options = ServerFlags & OutputFlags;

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `custos rotation approve <id>`: approves a rotation request. Exit 0 when the approval was
 * taken (and, if it was the last, the rotation succeeded), 1 when the rotation it ran rolled
 * back, 2 when the approval was refused.
 */
export async function run(id: string, options: Options): Promise<number> {
  if (!REQUEST_ID.test(id))
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      'the request id is a UUID (custos rotation requests)',
    );
  const format = outputFormat(options);
  const { body } = await serverClient(options).request('POST', `sys/rotation-approve/${id}`, {
    body: {},
  });
  const data = (body as { data: Record<string, unknown> }).data;
  const approvedBy = (data.approved_by as string[]) ?? [];
  const result = data.result === undefined ? undefined : String(data.result);
  if (format === 'json') print(JSON.stringify(data, null, 2));
  else if (result === undefined)
    print(
      `Approved (${approvedBy.length} of ${String(data.approvals_required)}): ${String(data.secret)} rotates once the others approve, before ${String(data.expires_time)}.`,
    );
  else print(`Approved by ${approvedBy.join(', ')}: ${String(data.secret)} rotation ${result}.`);
  return result === undefined || result === 'succeeded' ? ExitCode.ok : ExitCode.finding;
}
