import { ExitCode } from '../../exit-codes.js';
import { unprotectFile } from '../../key-file-protection.js';
import type { IdentityFlags } from '../backup/keys.js';
import { kind } from './protect.js';

export async function run(
  options: IdentityFlags & { file: string; out?: string },
): Promise<number> {
  await unprotectFile(kind, options.file, options);
  return ExitCode.ok;
}
