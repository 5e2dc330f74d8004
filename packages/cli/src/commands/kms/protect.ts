import { LocalKms } from '@custos/core/kms';
import { ExitCode } from '../../exit-codes.js';
import { type KeyFileKind, protectFile } from '../../key-file-protection.js';
import type { RecipientFlags } from '../backup/keys.js';

export const kind: KeyFileKind = {
  what: 'KMS file',
  async check(text: string) {
    LocalKms.fromText(text);
  },
};

export async function run(
  options: RecipientFlags & { file: string; out?: string },
): Promise<number> {
  await protectFile(kind, options.file, options);
  return ExitCode.ok;
}
