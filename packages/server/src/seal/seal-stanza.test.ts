import { describe, expect, it } from 'vitest';
import { parseServerConfig } from '../config/server-config.js';
import { createRootKeyWrapper, parseSealStanza } from './seal-stanza.js';

const base = { type: 'transit', address: 'https://kms.internal:8200', key_name: 'custos-seal' };

describe('the seal stanza', () => {
  it('is parsed from the server configuration with Vault names', () => {
    const config = parseServerConfig(
      { storage: 'data.db', seal: { ...base, mount_path: 'transit/' } },
      '/etc/custos',
    );
    expect(config.seal).toEqual({ ...base, mount_path: 'transit/' });
  });

  it('takes a pkcs11 stanza, its pin_file relative to the configuration directory', () => {
    const pkcs11 = { type: 'pkcs11', lib: '/usr/lib/hsm.so', key_label: 'k', slot: '0' };
    const config = parseServerConfig(
      { storage: 'data.db', seal: { ...pkcs11, pin_file: 'hsm-pin' } },
      '/etc/custos',
    );
    expect(config.seal).toEqual({ ...pkcs11, pin_file: '/etc/custos/hsm-pin' });
  });

  it('refuses bad fields with a message naming the field, never echoing the token', () => {
    const canary = `CANARY-${Date.now().toString(36)}`;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, type: 'alicloudkms' }, 'seal.type'],
      [{ type: 'pkcs11', key_label: 'k', address: 'x' }, 'seal.address'],
      [{ type: 'pkcs11', key_label: 'k', mechanism: 'CKM_RSA_PKCS' }, 'seal.mechanism'],
      [{ type: 'pkcs11', key_label: 'k', slot: 0 }, 'seal.slot'],
      [{ type: 'pkcs11', key_label: 'k', slot: '0', token_label: 't' }, 'seal.token_label'],
      [{ type: 'pkcs11', key_label: 'k', pin: canary, pin_file: '/p' }, 'seal.pin_file'],
      [{ type: 'pkcs11', key_label: '', pin: canary }, 'seal.key_label'],
      [{ type: 'pkcs11', key_label: 'k', pin: canary, generate_key: 'yes' }, 'seal.generate_key'],
      [{ ...base, address: 'kms.internal' }, 'seal.address'],
      [{ ...base, key_name: '../x' }, 'seal.key_name'],
      [{ ...base, mount_path: 'a/../../b?' }, 'seal.mount_path'],
      [{ ...base, mount_path: 'transit/../sys' }, 'seal.mount_path'],
      [{ ...base, mount_path: './transit' }, 'seal.mount_path'],
      [{ ...base, token: '' }, 'seal.token'],
      [{ ...base, disabled: 'yes', token: canary }, 'seal.disabled'],
      [{ ...base, tokn: canary }, 'seal.tokn'],
      [{ ...base, timeout_ms: 0, token: canary }, 'seal.timeout_ms'],
    ];
    for (const [stanza, named] of cases) {
      let message = '';
      try {
        parseSealStanza(stanza);
      } catch (err) {
        message = (err as Error).message;
        expect((err as { code: string }).code).toBe('ERR_INVALID_CONFIG');
      }
      expect(message).toContain(named);
      expect(message).not.toContain(canary);
    }
  });

  it('takes the token from the stanza, else CUSTOS_SEAL_TOKEN, else VAULT_TOKEN, and refuses none', () => {
    expect(createRootKeyWrapper(base as never, { VAULT_TOKEN: 't' }).type).toBe('transit');
    expect(createRootKeyWrapper(base as never, { CUSTOS_SEAL_TOKEN: 't' }).description).toBe(
      'transit seal https://kms.internal:8200 key transit/custos-seal',
    );
    expect(() => createRootKeyWrapper(base as never, {})).toThrow(/CUSTOS_SEAL_TOKEN/);
  });
});
