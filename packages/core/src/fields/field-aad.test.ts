import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeAssociatedData } from '../crypto/index.js';
import { encodeFieldAad } from './field-aad.js';

describe('encodeFieldAad', () => {
  it('is byte for byte the keyring encoding of the field record (property)', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1 });
    fc.assert(
      fc.property(
        fc.constantFrom('field', 'field-deterministic'),
        text,
        text,
        fc.option(text, { nil: undefined }),
        fc.option(text, { nil: undefined }),
        (purpose, table, column, row, tenant) => {
          const fast = encodeFieldAad(purpose, table, column, row, tenant);
          const reference = encodeAssociatedData({ purpose, table, column, row, tenant });
          expect(fast.equals(reference)).toBe(true);
          // Cached pieces give the same bytes the second time.
          expect(encodeFieldAad(purpose, table, column, row, tenant).equals(reference)).toBe(true);
        },
      ),
    );
  });
});
