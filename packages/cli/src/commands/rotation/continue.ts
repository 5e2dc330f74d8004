import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { type OutputFlags, outputFormat } from '../../vault/format.js';
import { secretPath } from './secret-path.js';

type Options = ServerFlags & OutputFlags & { wait?: boolean };

interface Continued {
  id: string;
  secret: string;
  result: string;
  error?: string;
  background?: string;
}

interface Background {
  state: string;
  attempts: number;
  error?: string;
}

const ENDED = new Set(['done', 'failed']);

/**
 * `custos rotation continue <mount>/<path> [--wait]`: continues the secret's last rotation
 * where it stopped (`POST sys/rotation-continue/…`): its background work (a `transit-key`
 * rewrap) from the saved progress, or a finish that failed. With `--wait`, follows the
 * background work until it ends. Exit 0 continued (or done), 1 it failed again, 2 nothing to
 * continue, no permission, or a usage error.
 */
export async function run(secret: string, options: Options): Promise<number> {
  const format = outputFormat(options);
  const client = serverClient(options);
  const path = secretPath(secret);
  const { body } = await client.request('POST', `sys/rotation-continue/${path}`, { body: {} });
  const data = (body as { data: Continued }).data;
  if (data.background === undefined) {
    if (format === 'json') print(JSON.stringify(data, null, 2));
    else
      print(
        data.error === undefined
          ? `Continued ${data.secret} (rotation ${data.id}): finish ok.`
          : `Continued ${data.secret} (rotation ${data.id}): finish failed: ${data.error}`,
      );
    return data.error === undefined ? ExitCode.ok : ExitCode.finding;
  }
  if (options.wait !== true) {
    if (format === 'json') print(JSON.stringify(data, null, 2));
    else
      print(
        `Continuing ${data.secret} (rotation ${data.id}) in the background on the server; follow it with: custos rotation history ${secret}`,
      );
    return ExitCode.ok;
  }
  let background: Background | undefined;
  for (;;) {
    const history = await client.request('GET', `sys/rotation-history/${path}`);
    const runs = (history.body as { data: { runs: { id: string; background?: Background }[] } })
      .data.runs;
    background = runs.find((r) => r.id === data.id)?.background;
    if (background === undefined || ENDED.has(background.state)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const state = background?.state ?? 'done';
  if (format === 'json') print(JSON.stringify({ ...data, background: background ?? {} }, null, 2));
  else
    print(
      state === 'done'
        ? `Continued ${data.secret} (rotation ${data.id}): background work done.`
        : `Continued ${data.secret} (rotation ${data.id}): background work failed: ${background?.error ?? 'unknown'}`,
    );
  return state === 'done' ? ExitCode.ok : ExitCode.finding;
}
