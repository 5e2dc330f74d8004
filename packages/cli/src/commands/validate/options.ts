import type { CheckEnvironmentOptions } from '@custos/core/secrets';
import type { Command } from 'commander';

/** Flags shared by `custos validate` and `custos run`: where configuration comes from. */
export interface LoadFlags {
  envFile: string[];
  example?: string;
  schema?: string;
  environment?: string;
  secretsDir: string[];
  allowProcessEnv: boolean;
  keysFile?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds the loading flags to a command. */
export function addLoadFlags(command: Command): Command {
  return command
    .option(
      '-e, --env-file <file>',
      'env file, lowest precedence first (repeatable); default .env, .env.local, .env.<environment>, .env.<environment>.local',
      collect,
      [],
    )
    .option(
      '--example <file>',
      'example file naming every required variable (default .env.example)',
    )
    .option('-s, --schema <file>', 'schema: a JSON file or a module exporting defineSecrets(...)')
    .option(
      '--environment <name>',
      'environment; production refuses weak values, development values and the process environment (default NODE_ENV, else development)',
    )
    .option(
      '--secrets-dir <dir>',
      'directory of secret files, e.g. /run/secrets (repeatable)',
      collect,
      [],
    )
    .option('--allow-process-env', 'in production, read the process environment too', false)
    .option(
      '--keys-file <file>',
      'key file for encrypted values (default .env.keys beside each env file)',
    );
}

/** Maps the flags to the options of `checkEnvironment`, loading the schema file if given. */
export async function toCheckOptions(flags: LoadFlags): Promise<CheckEnvironmentOptions> {
  const { loadSchemaFile } = await import('@custos/core/secrets');
  return {
    ...(flags.envFile.length > 0 ? { envFiles: flags.envFile } : {}),
    ...(flags.example === undefined ? {} : { exampleFile: flags.example }),
    ...(flags.schema === undefined ? {} : { schema: await loadSchemaFile(flags.schema) }),
    ...(flags.environment === undefined ? {} : { environment: flags.environment }),
    ...(flags.keysFile === undefined ? {} : { keysFile: flags.keysFile }),
    secretDirectories: flags.secretsDir,
    allowProcessEnv: flags.allowProcessEnv,
  };
}
