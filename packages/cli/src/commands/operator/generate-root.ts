import { CustosError } from '@custos/core/errors';
import { ExitCode } from '../../exit-codes.js';
import { print } from '../../output.js';
import { type ServerFlags, serverClient } from '../../server-client.js';
import { orStdin } from './stdin-value.js';

interface Options extends ServerFlags {
  init: boolean;
  cancel: boolean;
  status: boolean;
  generateOtp: boolean;
  decode?: string;
  otp?: string;
  nonce?: string;
  format: string;
}

interface Attempt {
  started: boolean;
  nonce: string;
  progress: number;
  required: number;
  encoded_token: string;
  otp: string;
  otp_length: number;
  complete: boolean;
}

function show(attempt: Attempt, format: string): void {
  if (format === 'json') {
    print(JSON.stringify(attempt, null, 2));
    return;
  }
  print(`Nonce            ${attempt.nonce}`);
  print(`Started          ${attempt.started}`);
  print(`Progress         ${attempt.progress}/${attempt.required}`);
  print(`Complete         ${attempt.complete}`);
  if (attempt.otp !== '') print(`OTP              ${attempt.otp}`);
  print(`OTP Length       ${attempt.otp_length}`);
  if (attempt.encoded_token !== '') print(`Encoded Token    ${attempt.encoded_token}`);
}

export async function run(key: string | undefined, options: Options): Promise<number> {
  // The root-token encoding, without the rest of the server.
  const { decodeRootToken, generateOtp } = await import('@custos/server/root-token');
  if (options.decode !== undefined) {
    if (options.otp === undefined || options.otp === '')
      throw new CustosError('ERR_INVALID_ARGUMENT', '-decode needs the -otp of the generation');
    // The decoded token is the command's output, as with Vault's CLI.
    print(decodeRootToken(await orStdin(options.decode, 'encoded token'), options.otp));
    return ExitCode.ok;
  }
  if (options.generateOtp) {
    print(generateOtp());
    return ExitCode.ok;
  }
  const client = serverClient(options);
  const path = 'sys/generate-root/attempt';
  if (options.cancel) {
    await client.request('DELETE', path);
    print('Success! Root token generation canceled (if it was started)');
    return ExitCode.ok;
  }
  if (options.status) {
    show((await client.request('GET', path)).body as unknown as Attempt, options.format);
    return ExitCode.ok;
  }
  if (options.init) {
    const body = options.otp === undefined ? {} : { otp: options.otp };
    show((await client.request('POST', path, { body })).body as unknown as Attempt, options.format);
    return ExitCode.ok;
  }
  const share = await orStdin(key, 'unseal key');
  const nonce =
    options.nonce ?? ((await client.request('GET', path)).body as unknown as Attempt).nonce;
  const { body } = await client.request('POST', 'sys/generate-root/update', {
    body: { key: share, nonce },
  });
  show(body as unknown as Attempt, options.format);
  return ExitCode.ok;
}
