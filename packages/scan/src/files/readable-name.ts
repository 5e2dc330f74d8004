import { isUtf8 } from 'node:buffer';

/** How many bytes the UTF-8 sequence starting with `lead` takes (0: no sequence starts so). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead < 0xe0) return 2;
  if (lead >= 0xe0 && lead < 0xf0) return 3;
  if (lead >= 0xf0 && lead < 0xf5) return 4;
  return 0;
}

/**
 * A file name's bytes as text: decoded as UTF-8, each byte that is not part of a valid UTF-8
 * sequence shown as `\xNN` (a name such as `caf\xe9.env`, written in Latin-1, would otherwise
 * decode to `caf\uFFFD.env` and name no file). Findings and skipped files are reported under
 * this name; the file itself is read by its bytes.
 *
 * @example
 * ```ts
 * readableName(Buffer.from([0x63, 0x61, 0x66, 0xe9])); // "caf\\xe9"
 * readableName(Buffer.from('café')); // "café"
 * ```
 */
export function readableName(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let name = '';
  for (let i = 0; i < buffer.length; ) {
    const length = sequenceLength(buffer[i] as number);
    if (length > 0 && i + length <= buffer.length && isUtf8(buffer.subarray(i, i + length))) {
      name += buffer.toString('utf8', i, i + length);
      i += length;
    } else {
      name += `\\x${(buffer[i] as number).toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return name;
}
