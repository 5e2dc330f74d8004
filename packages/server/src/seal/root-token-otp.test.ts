import { describe, expect, it } from 'vitest';
import { TOKEN_PREFIX } from '../auth/token-store.js';
import {
  decodeRootToken,
  encodeRootToken,
  generateOtp,
  ROOT_TOKEN_OTP_LENGTH,
} from './root-token-otp.js';

// The encoding of a generated root token (Vault's roottoken.EncodeToken): token XOR OTP, base64
// without padding, and its refusals word for word.
describe('root token OTP encoding', () => {
  const token = `cst.${'A1b2C3d4'.repeat(4)}`;

  it('makes base62 OTPs as long as a token, each one new', () => {
    const otps = new Set(Array.from({ length: 20 }, generateOtp));
    expect(otps.size).toBe(20);
    for (const otp of otps) expect(otp).toMatch(/^[A-Za-z0-9]{36}$/);
    // Written out in root-token-otp.ts so the CLI loads it alone: held here to the token's length.
    expect(ROOT_TOKEN_OTP_LENGTH).toBe(TOKEN_PREFIX.length + 32);
    expect(token).toHaveLength(ROOT_TOKEN_OTP_LENGTH);
  });

  it('encodes as the XOR of token and OTP in unpadded base64, and decodes back', () => {
    const otp = generateOtp();
    const encoded = encodeRootToken(token, otp);
    const xored = Buffer.from(token).map((byte, i) => byte ^ otp.charCodeAt(i));
    expect(encoded).toBe(Buffer.from(xored).toString('base64').replace(/=+$/, ''));
    expect(encoded).not.toContain(token);
    expect(decodeRootToken(encoded, otp)).toBe(token);
    // Decoding takes padded base64 as well (Vault's CLI prints either).
    expect(decodeRootToken(Buffer.from(xored).toString('base64'), otp)).toBe(token);
    // A 37-byte value needs padding: it is dropped, and decoding does not need it.
    const longer = `${token}x`;
    const longOtp = `${otp}y`;
    const unpadded = encodeRootToken(longer, longOtp);
    expect(unpadded).not.toMatch(/=/);
    expect(decodeRootToken(unpadded, longOtp)).toBe(longer);
  });

  it('refuses an OTP of another length and an encoded value that is not base64', () => {
    const otp = generateOtp();
    expect(() => encodeRootToken(token, otp.slice(1))).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_REQUEST',
        message: 'the OTP must be as long as the token',
      }),
    );
    const encoded = encodeRootToken(token, otp);
    expect(() => decodeRootToken(encoded, `${otp}z`)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_REQUEST',
        message: 'the OTP is not as long as the encoded token',
      }),
    );
    for (const bad of ['', 'not base64!', `${encoded}===`, `-${encoded.slice(1)}`, `${encoded}\n`])
      expect(() => decodeRootToken(bad, otp)).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_REQUEST',
          message: 'the encoded token is not base64',
        }),
      );
  });
});
