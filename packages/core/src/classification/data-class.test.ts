import { describe, expect, it } from 'vitest';
import { isCustosError } from '../errors/index.js';
import { DATA_CLASSES, dataClassOf, parseDataClass, withCanonicalDataClass } from './index.js';

describe('data classes', () => {
  it('match in any case and come back canonically spelled', () => {
    for (const name of DATA_CLASSES) {
      for (const spelling of [name, name.toLowerCase(), name.toUpperCase()]) {
        expect(dataClassOf(spelling)).toBe(name);
      }
    }
    expect(dataClassOf('Credential')).toBe('credential');
    expect(dataClassOf('pHi')).toBe('PHI');
  });

  it('know nothing else: spaces, look-alikes, other types', () => {
    for (const value of [
      ' PHI',
      'PHI ',
      'P HI',
      'phi\u0000',
      'PHİ',
      'secret',
      '',
      1,
      null,
      {},
      ['PHI'],
    ]) {
      expect(dataClassOf(value)).toBeUndefined();
    }
  });

  it('refuse an unknown class naming the allowed ones, not the value', () => {
    const canary = `class-canary-${Math.random()}`;
    let caught: unknown;
    try {
      parseDataClass(canary, 'custom_metadata.data_class');
    } catch (err) {
      caught = err;
    }
    expect(isCustosError(caught) && caught.code).toBe('ERR_INVALID_REQUEST');
    const message = (caught as Error).message;
    expect(message).toContain(
      'custom_metadata.data_class must be one of PHI, PII, credential, payment, internal',
    );
    expect(message).not.toContain(canary);
  });

  it('canonicalise the data_class of a custom_metadata map, and only that', () => {
    const given = { data_class: 'phi', owner: 'phi' };
    expect(withCanonicalDataClass(given)).toEqual({ data_class: 'PHI', owner: 'phi' });
    expect(given.data_class).toBe('phi');
    expect(withCanonicalDataClass({ owner: 'x' })).toEqual({ owner: 'x' });
    expect(withCanonicalDataClass({ data_class: null })).toEqual({ data_class: null });
    expect(() => withCanonicalDataClass({ data_class: 'top' })).toThrow(/must be one of/);
  });
});
