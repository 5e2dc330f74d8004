import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat, table } from '../../vault/format.js';

type Options = ServerFlags & OutputFlags;

interface Status {
  secret: string;
  rotator: string;
  automatic: boolean;
  last_rotation?: string;
  last_result?: string;
  next_due: string;
  overdue: boolean;
  running: boolean;
  background?: string;
}

/** `custos rotation status`: every policy, with overdue ones in red on a terminal. */
export async function run(options: Options): Promise<number> {
  const format = outputFormat(options);
  const { body } = await serverClient(options).request('GET', 'sys/rotation-status');
  const secrets = (body as { data: { secrets: Status[] } }).data.secrets;
  if (format === 'json') {
    print(JSON.stringify(secrets, null, 2));
    return ExitCode.ok;
  }
  if (secrets.length === 0) {
    print('No rotation policies.');
    return ExitCode.ok;
  }
  const red = (text: string) =>
    process.stdout.isTTY && process.env.NO_COLOR === undefined
      ? `\u001b[31m${text}\u001b[0m`
      : text;
  const lines = table(
    ['Secret', 'Rotator', 'Mode', 'Last rotation', 'Last result', 'Next due', 'Overdue'],
    secrets.map((s) => [
      s.secret,
      s.rotator,
      s.automatic ? 'automatic' : 'manual',
      s.last_rotation ?? 'never',
      s.running
        ? 'running'
        : s.background === undefined
          ? (s.last_result ?? '-')
          : `${s.last_result ?? '-'} (background ${s.background})`,
      s.next_due,
      s.overdue ? 'OVERDUE' : 'no',
    ]),
  );
  for (const line of lines) print(line.endsWith('OVERDUE') ? red(line) : line);
  return ExitCode.ok;
}
