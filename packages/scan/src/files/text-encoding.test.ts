import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scannableBytes } from './text-encoding.js';

describe('scannableBytes', () => {
  it('decodes UTF-16 text of either byte order after its mark, to UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const little = Buffer.from(`\ufeff${text}`, 'utf16le');
        const big = Buffer.from(little).swap16();
        expect(scannableBytes(little).toString('utf8')).toBe(text);
        expect(scannableBytes(big).toString('utf8')).toBe(text);
      }),
    );
  });

  it('returns other content as it is (UTF-8, with or without its own mark, and binary)', () => {
    for (const content of [
      Buffer.from('KEY=value\n'),
      Buffer.from('\ufeffKEY=value\n'),
      Buffer.from([0x00, 0xff, 0xfe]),
      Buffer.from([0xff]),
      Buffer.alloc(0),
    ]) {
      expect(scannableBytes(content)).toBe(content);
    }
  });

  it('drops an odd last byte of big-endian text', () => {
    const big = Buffer.concat([Buffer.from('\ufeffab', 'utf16le').swap16(), Buffer.from([0x41])]);
    expect(scannableBytes(big).toString('utf8')).toBe('ab');
  });
});
