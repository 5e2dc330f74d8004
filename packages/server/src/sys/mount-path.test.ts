import { describe, expect, it } from 'vitest';
import {
  authMountPath,
  canonicalMountPath,
  clashingMount,
  secretsMountPath,
  staticFirstSegments,
} from './mount-path.js';

describe('mount paths', () => {
  it('end in one /, keep their case, and hold ASCII letters, digits, - and _ only', () => {
    expect(canonicalMountPath('kv1')).toBe('kv1/');
    // Case-sensitive, as Vault: another case is another mount, kept as written.
    expect(canonicalMountPath('Team')).toBe('Team/');
    expect(canonicalMountPath('teams/A/KV/')).toBe('teams/A/KV/');
    expect(canonicalMountPath('A')).toBe('A/');
    expect(canonicalMountPath('kv1/')).toBe('kv1/');
    expect(canonicalMountPath('a_b-9')).toBe('a_b-9/');
    expect(canonicalMountPath('teams/a/kv')).toBe('teams/a/kv/');
    expect(canonicalMountPath('a/b/c/d/e/f/g/h/')).toBe('a/b/c/d/e/f/g/h/');
    for (const raw of [
      '',
      '/',
      'a//',
      'a//b',
      '/a',
      'a/./b',
      'a/../b',
      'a/b/c/d/e/f/g/h/i',
      'a.b',
      '..',
      '.',
      'a#',
      'a%2F',
      'é',
      '-a',
      ' a',
      // Letters that a Unicode case folding maps onto ASCII ones: never a mount segment.
      'ſecret', // U+017F LATIN SMALL LETTER LONG S (upper case: S)
      '\u212Av', // U+212A KELVIN SIGN (lower case: k)
      'İd', // U+0130 (lower case: i + combining dot)
      'team\u0301',
      'ｔｅａｍ',
      'a%54',
      'a\\b',
    ]) {
      expect(() => canonicalMountPath(raw), JSON.stringify(raw)).toThrow(/mount path/);
    }
    expect(() => canonicalMountPath('x'.repeat(65))).toThrow(/1 to 64/);
  });

  it('clash with a mount they nest in or enclose, never with a sibling sharing a prefix', () => {
    expect(clashingMount('secret/a/', ['secret/'])).toBe('secret/');
    expect(clashingMount('secret/a/b/', ['kv/', 'secret/'])).toBe('secret/');
    expect(clashingMount('a/', ['a/b/c/'])).toBe('a/b/c/');
    expect(clashingMount('a/b/', ['a/b/'])).toBe('a/b/');
    expect(clashingMount('a/bc/', ['a/b/'])).toBeUndefined();
    expect(clashingMount('a/b/', ['a/bc/', 'ab/'])).toBeUndefined();
  });

  it('refuse reserved first segments in any case and at any depth', () => {
    for (const reserved of [
      'sys',
      'auth/',
      'cubbyhole',
      'identity',
      'aws',
      'sys/x',
      'auth/a/b',
      'SYS',
      'Sys/x',
      'sYs',
      'AUTH/a',
      'Auth',
      'CubbyHole',
      'IDENTITY/x/y',
      'Aws',
    ])
      expect(() => secretsMountPath(reserved), reserved).toThrow(/reserved/);
    expect(() => secretsMountPath('kms/a', new Set(['kms']))).toThrow(/reserved/);
    expect(() => secretsMountPath('KMS/a', new Set(['kms']))).toThrow(/reserved/);
    expect(() => secretsMountPath('Kms', new Set(['kms']))).toThrow(/reserved/);
    // Folded onto a reserved name by Unicode, but not ASCII: refused as a segment.
    expect(() => secretsMountPath('\u017Fys')).toThrow(/ASCII letters/);
    expect(secretsMountPath('Team/A')).toBe('Team/A/');
    expect(secretsMountPath('teams/SYS/kv')).toBe('teams/SYS/kv/');
    expect(secretsMountPath('kms/a')).toBe('kms/a/');
    expect(secretsMountPath('teams/sys/kv')).toBe('teams/sys/kv/');
  });

  it('under auth/: the path of the token method in another case is reserved', () => {
    expect(authMountPath('ci/machines')).toBe('ci/machines/');
    expect(authMountPath('CI')).toBe('CI/');
    // token/ itself is the token method's mount: the table refuses it as a path in use.
    expect(authMountPath('token')).toBe('token/');
    for (const path of ['Token', 'TOKEN/x', 'toKen/a/b'])
      expect(() => authMountPath(path), path).toThrow(/reserved/);
    expect(() => authMountPath('\u212Aey')).toThrow(/ASCII letters/);
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
