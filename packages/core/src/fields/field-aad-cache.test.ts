import { describe, expect, it } from 'vitest';
import { encodeAssociatedData } from '../crypto/index.js';
import { encodeFieldAad } from './field-aad.js';

describe('encodeFieldAad cached pieces', () => {
  it('keeps the pieces of a column without a tenant and with each tenant apart', () => {
    const sequence: [string | undefined, string | undefined][] = [
      ['t1', 'r1'],
      [undefined, 'r1'],
      ['t2', undefined],
      [undefined, undefined],
      ['t1', 'r2'],
      ['t2', 'r2'],
      [undefined, 'ü-row'],
    ];
    for (const purpose of ['field', 'field-deterministic']) {
      for (const [tenant, row] of sequence) {
        const encoded = encodeFieldAad(purpose, 'cache_table', 'cache_column', row, tenant);
        const reference = encodeAssociatedData({
          purpose,
          table: 'cache_table',
          column: 'cache_column',
          row,
          tenant,
        });
        expect(encoded.equals(reference), `${purpose} ${tenant} ${row}`).toBe(true);
      }
    }
  });

  it('stays exact after more distinct columns than it caches', () => {
    for (let i = 0; i < 4200; i++) {
      const column = `column_${i}`;
      const encoded = encodeFieldAad(
        'field',
        'many',
        column,
        String(i),
        i % 2 ? 'tenant' : undefined,
      );
      if (i % 97 === 0 || i > 4090) {
        const reference = encodeAssociatedData({
          purpose: 'field',
          table: 'many',
          column,
          row: String(i),
          tenant: i % 2 ? 'tenant' : undefined,
        });
        expect(encoded.equals(reference), column).toBe(true);
      }
    }
    expect(
      encodeFieldAad('field', 'many', 'column_0', '0', undefined).equals(
        encodeAssociatedData({ purpose: 'field', table: 'many', column: 'column_0', row: '0' }),
      ),
    ).toBe(true);
  });
});
