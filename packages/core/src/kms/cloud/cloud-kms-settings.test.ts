import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openKmsFromEnvironment } from '../kms-from-environment.js';
import { readKmsSettings } from '../kms-settings.js';

function configError(env: NodeJS.ProcessEnv): string {
  try {
    readKmsSettings(env);
  } catch (err) {
    expect(err).toMatchObject({ code: 'ERR_KMS_CONFIG' });
    return (err as Error).message;
  }
  throw new Error('expected ERR_KMS_CONFIG');
}

const AZURE = {
  KMS_PROVIDER: 'azure',
  AZURE_KEY_VAULT_URL: 'https://acme-fields.vault.azure.net',
  AZURE_KEY_NAME: 'field-keys',
};
const GCP = {
  KMS_PROVIDER: 'gcp',
  GCP_KMS_KEY_NAME: 'projects/acme/locations/europe-west1/keyRings/app/cryptoKeys/fields',
};

describe('KMS_PROVIDER=azure and KMS_PROVIDER=gcp settings', () => {
  it('names each missing Azure setting, and a client secret without its tenant and client', () => {
    const missing = configError({ KMS_PROVIDER: 'azure' });
    expect(missing).toContain('AZURE_KEY_VAULT_URL');
    expect(missing).toContain('AZURE_KEY_NAME');
    const secret = `s3cr3t-${randomBytes(12).toString('hex')}`;
    const alone = configError({ ...AZURE, AZURE_CLIENT_SECRET: secret });
    expect(alone).toContain('AZURE_TENANT_ID: required with AZURE_CLIENT_SECRET');
    expect(alone).toContain('AZURE_CLIENT_ID: required with AZURE_CLIENT_SECRET');
    expect(alone).not.toContain(secret);
    expect(configError({ ...AZURE, AZURE_KEY_NAME: 'has space' })).toContain('AZURE_KEY_NAME');
    expect(configError({ ...AZURE, AZURE_KEY_VERSION: '../x' })).toContain('AZURE_KEY_VERSION');
  });

  it('refuses a GCP key name that is not a plain CryptoKey resource name', () => {
    for (const name of [
      `${GCP.GCP_KMS_KEY_NAME}/cryptoKeyVersions/1`,
      `${GCP.GCP_KMS_KEY_NAME}:decrypt`,
      `${GCP.GCP_KMS_KEY_NAME}?alt=media`,
      'projects/../locations/l/keyRings/r/cryptoKeys/k',
    ]) {
      expect(configError({ ...GCP, GCP_KMS_KEY_NAME: name })).toContain('GCP_KMS_KEY_NAME');
    }
    expect(
      readKmsSettings({
        ...GCP,
        GCP_KMS_KEY_NAME: GCP.GCP_KMS_KEY_NAME.replace('acme', 'example.com:acme'),
      }),
    ).toMatchObject({ provider: 'gcp' });
  });

  it('reads a service principal, keeping the client secret a Secret', () => {
    const secret = `s3cr3t-${randomBytes(12).toString('hex')}`;
    const settings = readKmsSettings({
      ...AZURE,
      AZURE_KEY_VERSION: '0123456789abcdef0123456789abcdef',
      AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      AZURE_CLIENT_SECRET: secret,
    });
    expect(settings).toMatchObject({
      provider: 'azure',
      vaultUrl: AZURE.AZURE_KEY_VAULT_URL,
      keyName: 'field-keys',
      keyVersion: '0123456789abcdef0123456789abcdef',
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    });
    if (settings.provider !== 'azure') throw new Error('unreachable');
    expect(settings.clientSecret?.reveal()).toBe(secret);
    expect(JSON.stringify(settings)).not.toContain(secret);
  });

  it('opens the Azure and Google providers from the environment without contacting them', async () => {
    const azure = await openKmsFromEnvironment({
      ...AZURE,
      AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      AZURE_CLIENT_SECRET: randomBytes(16).toString('hex'),
    });
    expect(azure.settings.provider).toBe('azure');
    expect(typeof azure.kms.generateDataKey).toBe('function');
    await azure.close();
    const managed = await openKmsFromEnvironment(AZURE);
    expect(managed.settings.provider).toBe('azure');
    await managed.close();

    const dir = await mkdtemp(join(tmpdir(), 'custos-gcp-env-'));
    try {
      const absent = join(dir, 'absent.json');
      await expect(
        openKmsFromEnvironment({ ...GCP, GOOGLE_APPLICATION_CREDENTIALS: absent }),
      ).rejects.toMatchObject({
        code: 'ERR_KMS_CONFIG',
        message: /GOOGLE_APPLICATION_CREDENTIALS/,
      });
      const file = join(dir, 'sa.json');
      await writeFile(file, '{}');
      const gcp = await openKmsFromEnvironment({ ...GCP, GOOGLE_APPLICATION_CREDENTIALS: file });
      expect(gcp.settings).toMatchObject({ provider: 'gcp', credentialsFile: file });
      await gcp.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
