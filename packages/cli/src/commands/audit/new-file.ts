import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

interface Options extends ServerFlags {
  format: string;
}

interface Started {
  sink: string;
  seq: number;
  hash: string;
  time: string;
  previous_checkpoint: { seq: number; hash: string } | null;
}

export async function run(sink: string, options: Options): Promise<number> {
  const { body } = await serverClient(options).request(
    'POST',
    `sys/audit/new-file/${encodeURIComponent(sink)}`,
    { body: {} },
  );
  const started = (body as { data: Started }).data;
  if (options.format === 'json') {
    print(JSON.stringify(started, null, 2));
    return ExitCode.ok;
  }
  const previous = started.previous_checkpoint;
  print(
    `started a new file for audit sink ${started.sink} at seq ${started.seq}` +
      (previous === null
        ? ' (a new chain)'
        : `, chained to the last recorded checkpoint (seq ${previous.seq}, ${previous.hash.slice(0, 16)}…)`),
  );
  print(
    `  verify the old file with: custos audit verify --server --sink ${started.sink} <old file>`,
  );
  return ExitCode.ok;
}
