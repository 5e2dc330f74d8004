import { describe, expect, it } from 'vitest';
import { normaliseVaultFlags } from './argv.js';

describe('normaliseVaultFlags', () => {
  it('gives known one-dash long flags their second dash, with = or a separate value', () => {
    expect(
      normaliseVaultFlags(['token', 'create', '-policy=app', '-ttl', '1h', '-format=json']),
    ).toEqual(['token', 'create', '--policy=app', '--ttl', '1h', '--format=json']);
    expect(
      normaliseVaultFlags(['read', '-field', 'role_id', 'auth/approle/role/a/role-id']),
    ).toEqual(['read', '--field', 'role_id', 'auth/approle/role/a/role-id']);
  });

  it('reads booleans as Vault does: -flag, -flag=true, -flag=false', () => {
    expect(normaliseVaultFlags(['policy', 'write', '-help'])).toEqual([
      'policy',
      'write',
      '--help',
    ]);
    expect(normaliseVaultFlags(['token', 'revoke', '-self'])).toEqual([
      'token',
      'revoke',
      '--self',
    ]);
    expect(normaliseVaultFlags(['token', 'create', '-renewable=false', '-orphan=true'])).toEqual([
      'token',
      'create',
      '--no-renewable',
      '--orphan',
    ]);
    expect(normaliseVaultFlags(['token', 'create', '-no-default-policy'])).toEqual([
      'token',
      'create',
      '--no-default-policy',
    ]);
  });

  it('leaves short flags, values, unknown flags and everything after -- as they are', () => {
    expect(
      normaliseVaultFlags(['write', '-f', 'secret/data/a', 'k=-format', '-', '-unknown=1']),
    ).toEqual(['write', '-f', 'secret/data/a', 'k=-format', '-', '-unknown=1']);
    expect(normaliseVaultFlags(['write', 'p', '--', '-format=json'])).toEqual([
      'write',
      'p',
      '--',
      '-format=json',
    ]);
  });

  it('touches only the Vault-style commands: custos run passes its arguments on unchanged', () => {
    const argv = ['run', '--', 'node', '-format=json'];
    expect(normaliseVaultFlags(argv)).toEqual(argv);
    expect(normaliseVaultFlags(['keygen', '-format=hex'])).toEqual(['keygen', '-format=hex']);
  });
});
