import { generateSecret } from '@custos/core/crypto';
import { CustosError } from '@custos/core/errors';

/**
 * Length of a custos token (`cst.` and 32 letters and digits): the OTP's length. Written out so
 * the CLI can load this file alone (`@custos/server/root-token`); a test keeps it in step.
 */
export const ROOT_TOKEN_OTP_LENGTH = 36;

/**
 * A fresh one-time password for a root token generation: base62, as long as a token (Vault's
 * OTP since 1.10).
 *
 * @example
 * ```ts
 * generateOtp().length; // 36
 * ```
 */
export function generateOtp(): string {
  return generateSecret({
    encoding: 'alphanumeric',
    length: ROOT_TOKEN_OTP_LENGTH,
  }).secret.reveal();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/**
 * The root token as `sys/generate-root/update` returns it: the token's bytes XOR the OTP's,
 * in base64 without padding (Vault's `roottoken.EncodeToken`).
 *
 * @example
 * ```ts
 * encodeRootToken(token, otp); // 'Ax8…'
 * ```
 */
export function encodeRootToken(token: string, otp: string): string {
  const t = Buffer.from(token, 'utf8');
  const o = Buffer.from(otp, 'utf8');
  if (t.length !== o.length)
    throw new CustosError('ERR_INVALID_REQUEST', 'the OTP must be as long as the token');
  return xor(t, o).toString('base64').replace(/=+$/, '');
}

/**
 * Decodes an encoded root token with the OTP of its generation (what
 * `custos operator generate-root -decode=… -otp=…` and Vault's CLI do).
 *
 * @example
 * ```ts
 * decodeRootToken(encodeRootToken(token, otp), otp) === token; // true
 * ```
 */
export function decodeRootToken(encoded: string, otp: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded))
    throw new CustosError('ERR_INVALID_REQUEST', 'the encoded token is not base64');
  const t = Buffer.from(encoded, 'base64');
  const o = Buffer.from(otp, 'utf8');
  if (t.length !== o.length)
    throw new CustosError('ERR_INVALID_REQUEST', 'the OTP is not as long as the encoded token');
  return xor(t, o).toString('utf8');
}
