import { writeBackupIdentityFile } from '@custos/core/stream';
import { warnIfCommittable } from '../../committable.js';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';

interface Options {
  out: string;
}

export async function run(options: Options): Promise<number> {
  const recipient = await writeBackupIdentityFile(options.out);
  await warnIfCommittable(options.out);
  warn(`wrote ${options.out} (mode 0600); its recipient (public, for encrypting) is:`);
  print(recipient);
  return ExitCode.ok;
}
