import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';

interface Options extends ServerFlags {
  keyShares: number;
  keyThreshold: number;
  recoveryShares?: number;
  recoveryThreshold?: number;
  format: string;
}

export async function run(options: Options): Promise<number> {
  const recovery = options.recoveryShares !== undefined || options.recoveryThreshold !== undefined;
  const { body } = await serverClient(options).request('POST', 'sys/init', {
    body: recovery
      ? {
          recovery_shares: options.recoveryShares ?? 5,
          recovery_threshold: options.recoveryThreshold ?? 3,
        }
      : { secret_shares: options.keyShares, secret_threshold: options.keyThreshold },
  });
  const result = body as { keys: string[]; recovery_keys?: string[]; root_token: string };
  if (options.format === 'json') {
    print(JSON.stringify(body, null, 2));
    return ExitCode.ok;
  }
  if (recovery) {
    // Printing them is the point: this output is their only copy.
    for (const [i, key] of (result.recovery_keys ?? []).entries())
      print(`Recovery Key ${i + 1}: ${key}`);
    print(`\nInitial Root Token: ${result.root_token}\n`);
    print('The server unseals itself with its auto-unseal seal. The recovery keys authorise a');
    print(
      'root token generation; they never unseal. Store them apart; they are never shown again.',
    );
    return ExitCode.ok;
  }
  // This output is the only copy of the shares and the root token: printing them is the point.
  for (const [i, key] of result.keys.entries()) print(`Unseal Key ${i + 1}: ${key}`);
  print(`\nInitial Root Token: ${result.root_token}\n`);
  print(
    `The server is initialised with ${options.keyShares} key shares and a threshold of ${options.keyThreshold}.`,
  );
  print('It is sealed: unseal it with `custos operator unseal` and any');
  print(
    `${options.keyThreshold} of the keys above. Store the keys apart; they are never shown again.`,
  );
  return ExitCode.ok;
}
