import type { Command } from 'commander';
import type { Lazy } from '../../lazy.js';
import { addOutputFlags, collectList } from '../../output-flags.js';

/** `custos aws access-key create`: access keys for the server's Secrets Manager and KMS APIs. */
export function registerAwsCommands(program: Command, lazy: Lazy): void {
  const aws = program
    .command('aws')
    .description("the server's AWS Secrets Manager and KMS APIs (see docs/aws.md)");
  const accessKey = aws
    .command('access-key')
    .description('access keys that sign Secrets Manager and KMS requests (SigV4)');
  addOutputFlags(
    accessKey
      .command('create')
      .description('issue an access key mapped to policies; its secret is printed once')
      .requiredOption(
        '--policies <names>',
        'the policies of the key (comma-separated or repeated)',
        collectList,
      )
      .option('--ttl <duration>', 'lifetime, e.g. 720h (default: no expiry)')
      .action(lazy(() => import('./access-key-create.js'))),
  );
}
