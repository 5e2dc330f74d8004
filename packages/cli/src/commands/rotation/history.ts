import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat, table } from '../../vault/format.js';
import { secretPath } from './secret-path.js';

type Options = ServerFlags & OutputFlags;

interface Run {
  id: string;
  by: string;
  reason: string;
  started_time: string;
  state: string;
  steps: { step: string; result: string }[];
  error?: string;
  new_fingerprint?: string;
}

/** `custos rotation history <mount>/<path>`: the secret's rotations (never a value). */
export async function run(secret: string, options: Options): Promise<number> {
  const format = outputFormat(options);
  const { body } = await serverClient(options).request(
    'GET',
    `sys/rotation-history/${secretPath(secret)}`,
  );
  const runs = (body as { data: { runs: Run[] } }).data.runs;
  if (format === 'json') {
    print(JSON.stringify(runs, null, 2));
    return ExitCode.ok;
  }
  if (runs.length === 0) {
    print(`No rotations of ${secret}.`);
    return ExitCode.ok;
  }
  for (const line of table(
    ['Started', 'By', 'Result', 'Steps', 'Reason', 'New fingerprint'],
    runs.map((r) => [
      r.started_time,
      r.by,
      r.state,
      r.steps.map((s) => `${s.step}:${s.result}`).join(' '),
      r.reason || '-',
      (r.new_fingerprint ?? '-').slice(0, 24),
    ]),
  ))
    print(line);
  return ExitCode.ok;
}
