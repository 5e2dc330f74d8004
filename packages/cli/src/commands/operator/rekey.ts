import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { orStdin } from './stdin-value.js';

interface Options extends ServerFlags {
  init: boolean;
  cancel: boolean;
  status: boolean;
  verify: boolean;
  keyShares: number;
  keyThreshold: number;
  nonce?: string;
  target: string;
  format: string;
}

/** The server's answer: a rekey (or verification) in progress, or the new keys. */
interface RekeyAnswer {
  started?: boolean;
  nonce: string;
  t?: number;
  n?: number;
  progress?: number;
  required?: number;
  verification_required?: boolean;
  verification_nonce?: string;
  complete?: boolean;
  keys?: string[];
}

function show(answer: RekeyAnswer, format: string, recovery = false): void {
  if (format === 'json') {
    print(JSON.stringify(answer, null, 2));
    return;
  }
  if (answer.keys !== undefined) {
    // This output is the only copy of the new shares: printing them is the point.
    for (const [i, key] of answer.keys.entries()) print(`Key ${i + 1}: ${key}`);
    print(`\nOperation nonce: ${answer.nonce}\n`);
    if (answer.verification_required === true)
      print(
        `The new keys must be verified before they replace the old ones: ${answer.verification_nonce === undefined ? '' : `verification nonce ${answer.verification_nonce}; `}a threshold of them goes to \`custos operator rekey -verify\`.`,
      );
    else
      print(
        recovery
          ? `The recovery keys are replaced by ${answer.keys.length} new shares. The old recovery keys no longer authorise anything; store the new ones apart: they are never shown again.`
          : `The server is rekeyed with ${answer.keys.length} key shares. The old keys no longer unseal it; store the new ones apart: they are never shown again.`,
      );
    return;
  }
  if (answer.complete === true) {
    print(`Success! Rekey verification complete (nonce ${answer.nonce}): the new keys are in use.`);
    return;
  }
  print(`Nonce            ${answer.nonce}`);
  print(`Started          ${answer.started === true}`);
  print(`Progress         ${answer.progress ?? 0}/${answer.required ?? answer.t ?? 0}`);
  print(`New Shares       ${answer.n ?? 0}`);
  print(`New Threshold    ${answer.t ?? 0}`);
  if (answer.verification_required !== undefined)
    print(`Verification Required  ${answer.verification_required}`);
}

/**
 * `custos operator rekey`: Vault's CLI flow over sys/rekey/* (init, one key per holder, status,
 * cancel) and, with `-verify`, over sys/rekey/verify.
 */
export async function run(key: string | undefined, options: Options): Promise<number> {
  if (options.target !== 'barrier' && options.target !== 'recovery')
    throw new CustosError('ERR_INVALID_ARGUMENT', '--target must be barrier or recovery');
  const recovery = options.target === 'recovery';
  const prefix = recovery ? 'sys/rekey-recovery-key' : 'sys/rekey';
  const client = serverClient(options);
  const base = options.verify ? `${prefix}/verify` : `${prefix}/init`;
  if (options.cancel) {
    await client.request('DELETE', base);
    print(
      options.verify
        ? 'Success! Rekey verification restarted (the new keys stay the same)'
        : 'Success! Rekey canceled (if it was started)',
    );
    return ExitCode.ok;
  }
  if (options.status) {
    show((await client.request('GET', base)).body as unknown as RekeyAnswer, options.format);
    return ExitCode.ok;
  }
  if (options.init) {
    const { body } = await client.request('POST', `${prefix}/init`, {
      body: {
        secret_shares: options.keyShares,
        secret_threshold: options.keyThreshold,
        require_verification: options.verify,
      },
    });
    show(body as unknown as RekeyAnswer, options.format);
    return ExitCode.ok;
  }
  const share = await orStdin(
    key,
    options.verify ? 'new key' : recovery ? 'recovery key' : 'unseal key',
  );
  const nonce =
    options.nonce ?? ((await client.request('GET', base)).body as unknown as RekeyAnswer).nonce;
  const { body } = await client.request(
    'POST',
    options.verify ? `${prefix}/verify` : `${prefix}/update`,
    { body: { key: share, nonce } },
  );
  show(body as unknown as RekeyAnswer, options.format, recovery);
  return ExitCode.ok;
}
