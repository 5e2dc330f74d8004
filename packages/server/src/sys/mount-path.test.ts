import { describe, expect, it } from 'vitest';
import {
  canonicalMountPath,
  clashingMount,
  lowerCaseMountPath,
  secretsMountPath,
  staticFirstSegments,
} from './mount-path.js';

describe('mount paths', () => {
  it('have one spelling: lower-case segments ending in /', () => {
    expect(canonicalMountPath('kv1')).toBe('kv1/');
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
      'a/B',
      'a/b/c/d/e/f/g/h/i',
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

  it('clash with a mount they nest in or enclose, never with a sibling sharing a prefix', () => {
    expect(clashingMount('secret/a/', ['secret/'])).toBe('secret/');
    expect(clashingMount('secret/a/b/', ['kv/', 'secret/'])).toBe('secret/');
    expect(clashingMount('a/', ['a/b/c/'])).toBe('a/b/c/');
    expect(clashingMount('a/b/', ['a/b/'])).toBe('a/b/');
    expect(clashingMount('a/bc/', ['a/b/'])).toBeUndefined();
    expect(clashingMount('a/b/', ['a/bc/', 'ab/'])).toBeUndefined();
  });

  it('refuse reserved first segments at any depth', () => {
    for (const reserved of ['sys', 'auth/', 'cubbyhole', 'identity', 'aws', 'sys/x', 'auth/a/b'])
      expect(() => secretsMountPath(reserved), reserved).toThrow(/reserved/);
    expect(() => secretsMountPath('kms/a', new Set(['kms']))).toThrow(/reserved/);
    expect(secretsMountPath('kms/a')).toBe('kms/a/');
    expect(secretsMountPath('teams/sys/kv')).toBe('teams/sys/kv/');
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
