import { inspectBackup } from '@custos/core/stream';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { inputOf } from './io.js';

interface Options {
  json: boolean;
}

export async function run(input: string | undefined, options: Options): Promise<number> {
  const info = await inspectBackup(inputOf(input));
  if (options.json) {
    print(JSON.stringify(info, null, 2));
    return ExitCode.ok;
  }
  print(`custos backup, format version ${info.formatVersion}, ${info.chunkSize / 1024} KiB chunks`);
  print('opened by any one of:');
  for (const recipient of info.recipients) print(`  ${recipient.summary}`);
  return ExitCode.ok;
}
