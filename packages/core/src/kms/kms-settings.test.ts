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

  it('a LocalKms key due for rotation wraps no field data key under a version only this process holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-kms-env-'));
    try {
      const file = join(dir, 'kms.json');
      const app = await LocalKms.open(file);
      app.createKey('fields', { rotateAfterEncryptions: 2 });
      await app.save();
      const env = { KMS_PROVIDER: 'local', LOCAL_KMS_FILE: file, KMS_KEY_NAME: 'fields' };
      const opened = await openKmsFromEnvironment(env);
      const fc = createFieldCipher({ kms: opened.kms, dataKeyCache: { maxUses: 1 } });
      const sealed = [];
      // Every value until the saved version is exhausted encrypts and decrypts; the next one is
      // refused (the rotated version would exist only in memory, lost at exit with its data).
      let refused: unknown;
      for (let i = 0; i < 4 && refused === undefined; i++) {
        const context = { table: 't', column: 'c', rowId: i };
        try {
          sealed.push({ context, value: await fc.encrypt(`v${i}`, context) });
        } catch (err) {
          refused = err;
        }
      }
      expect(refused).toMatchObject({ code: 'ERR_KEY_EXHAUSTED', message: /due for rotation/ });
      expect(sealed.length).toBeGreaterThan(0);
      for (const { context, value } of sealed) {
        expect(await fc.decrypt(value, context)).toMatch(/^v\d$/);
      }
      await opened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const aws = { KMS_PROVIDER: 'aws', AWS_REGION: 'eu-west-1', AWS_KMS_KEY_ID: 'alias/fields' };
  const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('reads the aws settings: endpoint (the KMS one first), account and an access key as Secrets', () => {
    const secret = `canary-${randomBytes(12).toString('hex')}`;
    const settings = readKmsSettings({
      ...aws,
      AWS_KMS_KEY_ID: arn,
      AWS_KMS_ACCOUNT_ID: '111122223333',
      AWS_ENDPOINT_URL: 'https://kms.general.example',
      AWS_ENDPOINT_URL_KMS: 'https://kms.example',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: secret,
    });
    expect(settings).toMatchObject({
      provider: 'aws',
      region: 'eu-west-1',
      keyId: arn,
      endpoint: 'https://kms.example',
      accountId: '111122223333',
      credentials: { accessKeyId: 'AKIAEXAMPLE' },
    });
    if (settings.provider !== 'aws') throw new Error('unreachable');
    expect(settings.credentials?.secretAccessKey.reveal()).toBe(secret);
    expect(JSON.stringify(settings)).not.toContain(secret);
    expect(readKmsSettings({ ...aws, AWS_ENDPOINT_URL: 'http://127.0.0.1:8200' })).toMatchObject({
      endpoint: 'http://127.0.0.1:8200',
    });
    expect(readKmsSettings(aws)).not.toHaveProperty('credentials');
  });

  it('refuses aws settings that do not fit: key forms, ARNs of another region or account, endpoints, half an access key', () => {
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    for (const keyId of [
      'arn:aws:s3:::bucket',
      'alias/',
      'alias//x',
      'key id with spaces',
      'a/b',
    ]) {
      expect(configError({ ...aws, AWS_KMS_KEY_ID: keyId })).toContain('AWS_KMS_KEY_ID: must be');
    }
    expect(
      configError({ ...aws, AWS_KMS_KEY_ID: arn.replace('eu-west-1', 'us-east-1') }),
    ).toContain('AWS_KMS_KEY_ID: is an ARN of region us-east-1, not eu-west-1');
    expect(
      configError({ ...aws, AWS_KMS_KEY_ID: arn, AWS_KMS_ACCOUNT_ID: '444455556666' }),
    ).toContain('AWS_KMS_KEY_ID: is an ARN of account 111122223333, not 444455556666');
    expect(
      configError({
        ...aws,
        AWS_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:alias/fields',
        AWS_KMS_ACCOUNT_ID: '444455556666',
      }),
    ).toContain('AWS_KMS_KEY_ID: is an ARN of account');
    expect(configError({ ...aws, AWS_KMS_ACCOUNT_ID: '1234' })).toContain('AWS_KMS_ACCOUNT_ID');
    expect(configError({ ...aws, AWS_REGION: 'Europe' })).toContain('AWS_REGION: must be');
    for (const endpoint of ['http://kms.example', 'http://10.0.0.1', 'ftp://127.0.0.1']) {
      expect(configError({ ...aws, AWS_ENDPOINT_URL: endpoint })).toContain(
        'AWS_ENDPOINT_URL: must be an https:// URL (http:// only on loopback)',
      );
    }
    const half = configError({ ...aws, AWS_SECRET_ACCESS_KEY: canary });
    expect(half).toContain('AWS_ACCESS_KEY_ID: required with AWS_SECRET_ACCESS_KEY');
    expect(half).not.toContain(canary);
    expect(configError({ ...aws, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).toContain(
      'AWS_SECRET_ACCESS_KEY: required with AWS_ACCESS_KEY_ID',
    );
    expect(configError({ ...aws, AWS_SESSION_TOKEN: canary })).not.toContain(canary);
  });

  it('takes KEY_ROTATION_* where custos registers rotation, and refuses it with ERR_KMS_CONFIG elsewhere', () => {
    const on = (days: string) => ({
      KEY_ROTATION_ENABLED: 'true',
      KEY_ROTATION_INTERVAL_DAYS: days,
    });
    expect(readKmsSettings({ ...aws, ...on('90') }).rotation).toEqual({
      enabled: true,
      intervalDays: 90,
    });
    expect(readKmsSettings({ ...aws, ...on('2560') }).rotation.intervalDays).toBe(2560);
    for (const days of ['89', '2561', '1']) {
      expect(configError({ ...aws, ...on(days) })).toContain(
        'KEY_ROTATION_INTERVAL_DAYS: AWS KMS rotates keys every 90 to 2560 days',
      );
    }
    expect(
      readKmsSettings({ KMS_PROVIDER: 'vault', KMS_KEY_NAME: 'f', ...on('1') }).rotation,
    ).toEqual({ enabled: true, intervalDays: 1 });
    const local = { KMS_PROVIDER: 'local', LOCAL_KMS_FILE: '/tmp/k.json', KMS_KEY_NAME: 'f' };
    expect(configError({ ...local, ...on('30') })).toContain(
      'KEY_ROTATION_ENABLED: a LocalKms file cannot rotate its key by itself',
    );
    const pkcs11 = {
      KMS_PROVIDER: 'pkcs11',
      PKCS11_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so',
      PKCS11_PIN: '1234',
      PKCS11_KEY_LABEL: 'fields',
    };
    expect(configError({ ...pkcs11, ...on('30') })).toContain(
      'KEY_ROTATION_ENABLED: a PKCS#11 token cannot rotate its key by itself',
    );
    const gcp = {
      KMS_PROVIDER: 'gcp',
      GCP_KMS_KEY_NAME: 'projects/p/locations/global/keyRings/r/cryptoKeys/k',
    };
    expect(configError({ ...gcp, ...on('30') })).toContain(
      'custos does not register rotation with Google Cloud KMS',
    );
    // Off, or not set: every provider opens as before.
    expect(readKmsSettings({ ...pkcs11, KEY_ROTATION_ENABLED: 'false' }).rotation).toEqual({
      enabled: false,
    });
  });
});
