const UTF16_LE_BOM = [0xff, 0xfe] as const;
const UTF16_BE_BOM = [0xfe, 0xff] as const;

function startsWith(content: Uint8Array, bom: readonly number[]): boolean {
  return bom.every((byte, i) => content[i] === byte);
}

/**
 * The bytes to scan, as UTF-8: a file that starts with a UTF-16 byte order mark (as Windows
 * PowerShell's `>` and many Windows editors write text) is decoded from UTF-16 and its mark
 * dropped; any other content is returned as it is. Without this, UTF-16 text (a NUL byte beside
 * every ASCII character) is classified binary and never scanned.
 *
 * @example
 * ```ts
 * scannableBytes(Buffer.from('\ufeffKEY=value', 'utf16le')).toString(); // 'KEY=value'
 * ```
 */
export function scannableBytes(content: Buffer): Buffer {
  if (content.length < 2) return content;
  if (startsWith(content, UTF16_LE_BOM))
    return Buffer.from(content.subarray(2).toString('utf16le'), 'utf8');
  if (startsWith(content, UTF16_BE_BOM)) {
    // An odd last byte is no character; swap16 needs whole pairs.
    const pairs = Buffer.from(content.subarray(2, content.length - (content.length % 2)));
    return Buffer.from(pairs.swap16().toString('utf16le'), 'utf8');
  }
  return content;
}
