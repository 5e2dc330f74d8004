import { CustosError } from '@custos/core/errors';

/**
 * A QR code of `text` as terminal text (Unicode half blocks), from the optional `qrcode`
 * package; `ERR_INVALID_ARGUMENT` naming the package when it is not installed.
 */
export async function qrText(text: string): Promise<string> {
  let qrcode: typeof import('qrcode');
  try {
    qrcode = await import('qrcode');
  } catch {
    throw new CustosError(
      'ERR_INVALID_ARGUMENT',
      '--qr needs the optional package qrcode: npm install qrcode (or leave out --qr)',
    );
  }
  return qrcode.toString(text, { type: 'utf8', errorCorrectionLevel: 'M' });
}
