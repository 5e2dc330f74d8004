import { checkEnvFiles } from '@custos/core/secrets';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';

interface Options {
  dir: string;
  example?: string;
}

export async function run(options: Options): Promise<number> {
  const { files, findings } = await checkEnvFiles({
    directory: options.dir,
    ...(options.example === undefined ? {} : { exampleFile: options.example }),
  });
  for (const finding of findings) print(`  ✗ ${finding.file}: ${finding.detail}`);
  const checked = `${files.length} env file${files.length === 1 ? '' : 's'}`;
  print(findings.length === 0 ? `ok (${checked})` : `${findings.length} findings in ${checked}`);
  return findings.length > 0 ? ExitCode.finding : ExitCode.ok;
}
