import { readPassphraseFile, writeBackupIdentityFile } from '@custos/core/stream';
import { warnIfCommittable } from '../../committable.js';
import { ExitCode } from '../../exit-codes.js';
import { print, warn } from '../../output.js';

interface Options {
  out: string;
  passphraseFile?: string;
}

export async function run(options: Options): Promise<number> {
  const recipients =
    options.passphraseFile === undefined ? [] : [await readPassphraseFile(options.passphraseFile)];
  const recipient = await writeBackupIdentityFile(options.out, { recipients });
  await warnIfCommittable(options.out);
  const how = recipients.length === 0 ? '' : ', protected: open it with CUSTOS_KEY_PASSPHRASE_FILE';
  warn(`wrote ${options.out} (mode 0600${how}); its recipient (public, for encrypting) is:`);
  print(recipient);
  return ExitCode.ok;
}
