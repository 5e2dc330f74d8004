import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat, table } from '../../vault/format.js';

type Options = ServerFlags & OutputFlags;

interface ApprovalRequest {
  id: string;
  secret: string;
  requester: string;
  reason: string;
  expires_time: string;
  approvals_required: number;
  approved_by: string[];
  state: string;
  result?: string;
}

/** `custos rotation requests`: rotation requests and where each stands (never a value). */
export async function run(options: Options): Promise<number> {
  const format = outputFormat(options);
  const { body } = await serverClient(options).request('GET', 'sys/rotation-requests');
  const requests = (body as { data: { requests: ApprovalRequest[] } }).data.requests;
  if (format === 'json') {
    print(JSON.stringify(requests, null, 2));
    return ExitCode.ok;
  }
  if (requests.length === 0) {
    print('No rotation requests.');
    return ExitCode.ok;
  }
  for (const line of table(
    ['Id', 'Secret', 'Requester', 'State', 'Approved by', 'Expires', 'Reason'],
    requests.map((r) => [
      r.id,
      r.secret,
      r.requester,
      r.result === undefined ? r.state : `${r.state} (${r.result})`,
      `${r.approved_by.length}/${r.approvals_required} ${r.approved_by.join(', ')}`.trim(),
      r.expires_time,
      r.reason || '-',
    ]),
  ))
    print(line);
  return ExitCode.ok;
}
