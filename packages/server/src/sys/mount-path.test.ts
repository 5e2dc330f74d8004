import { describe, expect, it } from 'vitest';
import {
  canonicalMountPath,
  lowerCaseMountPath,
  secretsMountPath,
  staticFirstSegments,
} from './mount-path.js';

describe('mount paths', () => {
  it('have one spelling: one lower-case segment ending in /', () => {
    expect(canonicalMountPath('kv1')).toBe('kv1/');
    expect(canonicalMountPath('kv1/')).toBe('kv1/');
    expect(canonicalMountPath('a_b-9')).toBe('a_b-9/');
    for (const raw of [
      '',
      '/',
      'a//',
      'a/b',
      'A',
      'a.b',
      '..',
      '.',
      'a#',
      'a%2F',
      'é',
      '-a',
      ' a',
    ]) {
      expect(() => canonicalMountPath(raw), JSON.stringify(raw)).toThrow(/mount path/);
    }
    expect(() => canonicalMountPath('x'.repeat(65))).toThrow(/1 to 64/);
    expect(() => lowerCaseMountPath('Kv1')).toThrow(/lower-case/);
    expect(() => lowerCaseMountPath('kv1/a')).not.toThrow();
  });

  it('refuse a path under a mount as Vault does, and reserved first segments', () => {
    expect(() => secretsMountPath('secret/a', ['secret/'])).toThrow(
      'path is already in use at secret/',
    );
    expect(() => secretsMountPath('secret/a/b/', ['secret/'])).toThrow(/already in use/);
    for (const reserved of ['sys', 'auth/', 'cubbyhole', 'identity', 'aws'])
      expect(() => secretsMountPath(reserved, []), reserved).toThrow(/reserved/);
    expect(() => secretsMountPath('kms', [], new Set(['kms']))).toThrow(/reserved/);
    expect(secretsMountPath('kms', [])).toBe('kms/');
  });

  it('are reserved where a route without :mount claims the first segment', () => {
    expect([
      ...staticFirstSegments([
        '/v1/sys/mounts',
        '/v1/transit/keys/:name',
        '/v1/:mount/data/*',
        '/v1/auth/:mount/login',
        '/',
      ]),
    ]).toEqual(['sys', 'transit', 'auth']);
  });
});
