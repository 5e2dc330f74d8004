import { checkEnvFiles } from '@custos/core/secrets';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { unprotectedKeyFiles } from './key-file-warnings.js';

interface Options {
  dir: string;
  example?: string;
  keyFile?: string[];
  environment?: string;
}

export async function run(options: Options): Promise<number> {
  const { files, findings, notices } = await checkEnvFiles({
    directory: options.dir,
    ...(options.example === undefined ? {} : { exampleFile: options.example }),
  });
  for (const finding of findings) print(`  ✗ ${finding.file}: ${finding.detail}`);
  for (const notice of notices) print(`  note: ${notice}`);
  const environment = options.environment ?? process.env.NODE_ENV ?? 'development';
  if (environment === 'production') {
    // A warning, not a finding: a protected file needs an unlock key wherever it is loaded.
    for (const warning of await unprotectedKeyFiles(options.dir, options.keyFile ?? [])) {
      print(`  ! ${warning}`);
    }
  }
  const checked = `${files.length} env file${files.length === 1 ? '' : 's'}`;
  const unchecked = notices.length === 0 ? '' : ', git-ignore not checked';
  print(
    findings.length === 0
      ? `ok (${checked}${unchecked})`
      : `${findings.length} finding${findings.length === 1 ? '' : 's'} in ${checked}${unchecked}`,
  );
  // A check that could not run is not a finding: outside a repository git commits nothing.
  return findings.length > 0 ? ExitCode.finding : ExitCode.ok;
}
