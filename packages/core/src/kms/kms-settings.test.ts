import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFieldCipher } from '../fields/index.js';
import { openKmsFromEnvironment } from './kms-from-environment.js';
import { readKmsSettings } from './kms-settings.js';
import { LocalKms } from './local-kms.js';

function configError(env: NodeJS.ProcessEnv): string {
  try {
    readKmsSettings(env);
  } catch (err) {
    expect(err).toMatchObject({ code: 'ERR_KMS_CONFIG' });
    return (err as Error).message;
  }
  throw new Error('expected ERR_KMS_CONFIG');
}

describe('KMS_PROVIDER and its settings from the environment', () => {
  it('requires KMS_PROVIDER and one of the known providers', () => {
    expect(configError({})).toContain('KMS_PROVIDER');
    expect(configError({ KMS_PROVIDER: 'hsm' })).toContain('KMS_PROVIDER');
    expect(configError({ KMS_PROVIDER: 'AWS' })).toContain('KMS_PROVIDER');
  });

  it("names every missing setting of the selected provider, and no other provider's", () => {
    const pkcs11 = configError({ KMS_PROVIDER: 'pkcs11' });
    for (const name of ['PKCS11_LIBRARY', 'PKCS11_PIN', 'PKCS11_KEY_LABEL']) {
      expect(pkcs11).toContain(name);
    }
    expect(pkcs11).not.toContain('AWS_');
    const aws = configError({ KMS_PROVIDER: 'aws' });
    expect(aws).toContain('AWS_REGION');
    expect(aws).toContain('AWS_KMS_KEY_ID');
    expect(configError({ KMS_PROVIDER: 'azure' })).toContain('AZURE_KEY_VAULT_URL');
    expect(configError({ KMS_PROVIDER: 'gcp' })).toContain('GCP_KMS_KEY_NAME');
    expect(configError({ KMS_PROVIDER: 'vault' })).toContain('KMS_KEY_NAME');
    const local = configError({ KMS_PROVIDER: 'local' });
    expect(local).toContain('LOCAL_KMS_FILE');
    expect(local).toContain('KMS_KEY_NAME');
  });

  it('checks the form of URLs and key names, never echoing the PIN (canary)', () => {
    const canary = `canary-${randomBytes(6).toString('hex')}`;
    const message = configError({
      KMS_PROVIDER: 'pkcs11',
      PKCS11_PIN: canary,
      PKCS11_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so',
    });
    expect(message).toContain('PKCS11_KEY_LABEL');
    expect(message).not.toContain(canary);
    expect(
      configError({
        KMS_PROVIDER: 'azure',
        AZURE_KEY_VAULT_URL: 'http://vault.example',
        AZURE_KEY_NAME: 'k',
      }),
    ).toContain('AZURE_KEY_VAULT_URL: must be an https:// URL');
    expect(configError({ KMS_PROVIDER: 'gcp', GCP_KMS_KEY_NAME: 'projects/p/keys/k' })).toContain(
      'GCP_KMS_KEY_NAME: must be projects/',
    );
    expect(
      configError({
        KMS_PROVIDER: 'aws',
        AWS_REGION: 'eu-west-1',
        AWS_KMS_KEY_ID: 'alias/fields',
        AWS_ENDPOINT_URL_KMS: 'not a url',
      }),
    ).toContain('AWS_ENDPOINT_URL_KMS');
  });

  it('returns the selected settings, with the PIN kept as a Secret', () => {
    const pin = randomBytes(6).toString('hex');
    const settings = readKmsSettings({
      KMS_PROVIDER: 'pkcs11',
      PKCS11_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so',
      PKCS11_PIN: pin,
      PKCS11_KEY_LABEL: 'fields',
      PKCS11_TOKEN_LABEL: 'custos',
    });
    expect(settings).toMatchObject({
      provider: 'pkcs11',
      keyLabel: 'fields',
      tokenLabel: 'custos',
      rotation: { enabled: false },
    });
    if (settings.provider !== 'pkcs11') throw new Error('unreachable');
    expect(settings.pin.reveal()).toBe(pin);
    expect(JSON.stringify(settings)).not.toContain(pin);
    expect(
      readKmsSettings({
        KMS_PROVIDER: 'gcp',
        GCP_KMS_KEY_NAME: 'projects/p/locations/global/keyRings/r/cryptoKeys/k',
      }),
    ).toMatchObject({
      provider: 'gcp',
      keyName: 'projects/p/locations/global/keyRings/r/cryptoKeys/k',
    });
  });

  it('reads and checks KEY_ROTATION_ENABLED / KEY_ROTATION_INTERVAL_DAYS', () => {
    const base = { KMS_PROVIDER: 'custos', KMS_KEY_NAME: 'fields' };
    expect(readKmsSettings(base).rotation).toEqual({ enabled: false });
    expect(
      readKmsSettings({ ...base, KEY_ROTATION_ENABLED: 'true', KEY_ROTATION_INTERVAL_DAYS: '90' })
        .rotation,
    ).toEqual({ enabled: true, intervalDays: 90 });
    expect(configError({ ...base, KEY_ROTATION_ENABLED: 'true' })).toContain(
      'KEY_ROTATION_INTERVAL_DAYS',
    );
    expect(configError({ ...base, KEY_ROTATION_ENABLED: 'yes' })).toContain('KEY_ROTATION_ENABLED');
    for (const days of ['0', '-1', '1.5', 'abc', '90d', '10000']) {
      expect(
        configError({ ...base, KEY_ROTATION_ENABLED: 'true', KEY_ROTATION_INTERVAL_DAYS: days }),
      ).toContain('KEY_ROTATION_INTERVAL_DAYS');
    }
  });

  it('opens a LocalKms file selected by the environment and encrypts fields through it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-kms-env-'));
    try {
      const file = join(dir, 'kms.json');
      const local = await LocalKms.open(file);
      local.createKey('fields');
      await local.save();
      const env = { KMS_PROVIDER: 'local', LOCAL_KMS_FILE: file, KMS_KEY_NAME: 'fields' };
      const opened = await openKmsFromEnvironment(env);
      const fc = createFieldCipher({ kms: opened.kms });
      const context = { table: 't', column: 'c', rowId: 1 };
      expect(await fc.decrypt(await fc.encrypt('v', context), context)).toBe('v');
      await opened.close();

      await expect(
        openKmsFromEnvironment({ ...env, LOCAL_KMS_FILE: join(dir, 'absent.json') }),
      ).rejects.toMatchObject({ code: 'ERR_KMS_CONFIG', message: /LOCAL_KMS_FILE/ });
      await expect(openKmsFromEnvironment({ ...env, KMS_KEY_NAME: 'other' })).rejects.toMatchObject(
        { code: 'ERR_KEY_NOT_FOUND' },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says plainly that the aws, azure and gcp providers are not available yet', async () => {
    await expect(
      openKmsFromEnvironment({
        KMS_PROVIDER: 'aws',
        AWS_REGION: 'eu-west-1',
        AWS_KMS_KEY_ID: 'alias/fields',
      }),
    ).rejects.toMatchObject({ code: 'ERR_KMS_CONFIG', message: /not available/ });
  });
});
