import {
  type JwtAlgorithm,
  parseDurationSeconds,
  readJwtKeysetFile,
  writeJwtKeysetFile,
} from '@custos/core/tokens';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  file: string;
  grace: string;
  algorithm?: JwtAlgorithm;
}

export async function run(options: Options): Promise<number> {
  const graceSeconds = parseDurationSeconds(options.grace, '--grace');
  const before = await readJwtKeysetFile(options.file);
  const after = await before.rotate({
    graceSeconds,
    ...(options.algorithm === undefined ? {} : { algorithm: options.algorithm }),
  });
  await writeJwtKeysetFile(options.file, after, { protectedLike: before });
  const demoted = after.keys.find((k) => k.kid === before.current.kid);
  const dropped = before.keys.length + 1 - after.keys.length;
  print(
    `rotated ${options.file}: ${after.current.kid} (${after.current.algorithm}) now signs; ` +
      `${before.current.kid} verifies until ${demoted?.verifyUntil}` +
      (dropped > 0 ? `; removed ${dropped} key(s) past their grace window` : ''),
  );
  return ExitCode.ok;
}
