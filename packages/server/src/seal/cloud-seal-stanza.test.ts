import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseServerConfig } from '../config/server-config.js';
import { createRootKeyWrapper, parseSealStanza, type SealStanza } from './seal-stanza.js';

/** A credential-looking value made at run time (the repository scan must stay clean). */
const canary = () => `CANARY${randomBytes(12).toString('hex')}`;

/** The error a call throws: its code and everything a log or an answer could show of it. */
function refusal(call: () => unknown): { code: string; seen: string } {
  try {
    call();
  } catch (err) {
    const e = err as Error & { code: string };
    return { code: e.code, seen: `${e.message}\n${e.stack}\n${JSON.stringify(e)}` };
  }
  throw new Error('the call succeeded');
}

const aws = { type: 'awskms', region: 'eu-west-1', kms_key_id: 'alias/custos-seal' };
const azure = { type: 'azurekeyvault', vault_name: 'acme-seal', key_name: 'custos-seal' };
const gcp = {
  type: 'gcpckms',
  project: 'acme',
  region: 'global',
  key_ring: 'custos',
  crypto_key: 'seal',
};

describe('the cloud seal stanzas', () => {
  it("take Vault's fields and make a seal whose description names the key, never a credential", () => {
    const secret = canary();
    const sealed = [
      createRootKeyWrapper(
        { ...aws, access_key: 'AKIA0000', secret_key: secret } as SealStanza,
        {},
      ),
      createRootKeyWrapper(
        { ...azure, tenant_id: 't', client_id: 'c', client_secret: secret } as SealStanza,
        {},
      ),
      createRootKeyWrapper(gcp as SealStanza, {}),
    ];
    expect(sealed.map((s) => s.type)).toEqual(['awskms', 'azurekeyvault', 'gcpckms']);
    expect(sealed.map((s) => s.description)).toEqual([
      'awskms seal key alias/custos-seal (region eu-west-1)',
      'azurekeyvault seal key https://acme-seal.vault.azure.net/keys/custos-seal',
      'gcpckms seal key projects/acme/locations/global/keyRings/custos/cryptoKeys/seal',
    ]);
    for (const s of sealed) expect(JSON.stringify(s)).not.toContain(secret);
  });

  it("reads absent fields from Vault's environment variables", () => {
    const fromEnv = (type: string, env: NodeJS.ProcessEnv) =>
      createRootKeyWrapper({ type } as SealStanza, env).description;
    expect(
      fromEnv('awskms', {
        AWS_DEFAULT_REGION: 'us-west-2',
        VAULT_AWSKMS_SEAL_KEY_ID: 'alias/from-env',
        AWS_KMS_ENDPOINT: 'https://vpce-1.kms.us-west-2.vpce.amazonaws.com',
      }),
    ).toBe(
      'awskms seal key alias/from-env (region us-west-2, endpoint https://vpce-1.kms.us-west-2.vpce.amazonaws.com)',
    );
    expect(
      fromEnv('azurekeyvault', {
        VAULT_AZUREKEYVAULT_VAULT_NAME: 'hsm-one',
        VAULT_AZUREKEYVAULT_KEY_NAME: 'seal-key',
        AZURE_AD_RESOURCE: 'managedhsm.azure.net',
      }),
    ).toBe('azurekeyvault seal key https://hsm-one.managedhsm.azure.net/keys/seal-key');
    expect(
      fromEnv('azurekeyvault', {
        AZURE_ENVIRONMENT: 'AzureUSGovernmentCloud',
        VAULT_AZUREKEYVAULT_VAULT_NAME: 'gov-one',
        VAULT_AZUREKEYVAULT_KEY_NAME: 'seal-key',
      }),
    ).toBe('azurekeyvault seal key https://gov-one.vault.usgovcloudapi.net/keys/seal-key');
    expect(
      fromEnv('gcpckms', {
        GOOGLE_PROJECT: 'p1',
        GOOGLE_REGION: 'europe-west1',
        VAULT_GCPCKMS_SEAL_KEY_RING: 'ring',
        VAULT_GCPCKMS_SEAL_CRYPTO_KEY: 'key',
      }),
    ).toBe('gcpckms seal key projects/p1/locations/europe-west1/keyRings/ring/cryptoKeys/key');
    // Defaults as Vault's: us-east-1 for AWS, global for Cloud KMS.
    expect(fromEnv('awskms', { VAULT_AWSKMS_SEAL_KEY_ID: 'k-1' })).toContain('region us-east-1');
  });

  it('refuses unknown or misspelled fields, wrong types and missing keys, naming the field and never a value', () => {
    const secret = canary();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...aws, secret_key: secret, kms_keyid: 'x' }, 'seal.kms_keyid'],
      [{ ...aws, secret_key: secret, shared_creds_profile: 'p' }, 'seal.shared_creds_profile'],
      [{ ...aws, secret_key: secret, token: secret }, 'seal.token'],
      [{ ...aws, secret_key: 42 }, 'seal.secret_key'],
      [{ ...aws, secret_key: secret, disabled: 'yes' }, 'seal.disabled'],
      [{ ...azure, client_secret: secret, clientSecret: secret }, 'seal.clientSecret'],
      [{ ...azure, client_secret: secret, environment: 'MARS' }, 'seal.environment'],
      [{ ...azure, client_secret: secret, key_name: 'vault_key' }, 'seal.key_name'],
      [{ ...azure, client_secret: secret, vault_name: 'a/b' }, 'seal.vault_name'],
      [{ ...azure, client_secret: secret, resource: 'https://x' }, 'seal.resource'],
      [{ ...gcp, credential: '/etc/key.json' }, 'seal.credential'],
      [{ ...gcp, key_ring: '../other' }, 'seal.key_ring'],
      [{ ...gcp, project: 'p/q' }, 'seal.project'],
      [{ ...gcp, credentials: `{"private_key": "${secret}"}` }, 'seal.credentials'],
    ];
    for (const [stanza, named] of cases) {
      const { code, seen } = refusal(() => parseSealStanza(stanza));
      expect(code).toBe('ERR_INVALID_CONFIG');
      expect(seen).toContain(named);
      expect(seen).not.toContain(secret);
    }
    const missing: [Record<string, unknown>, NodeJS.ProcessEnv, string][] = [
      [{ type: 'awskms', secret_key: secret }, {}, 'VAULT_AWSKMS_SEAL_KEY_ID'],
      [{ ...aws, secret_key: secret }, {}, 'seal.access_key and seal.secret_key go together'],
      [{ ...aws }, { AWS_ACCESS_KEY_ID: 'AKIA0000' }, 'go together'],
      [{ ...aws, kms_key_id: 'arn:aws:kms:us-east-1:111122223333:key/k' }, {}, 'region'],
      [{ type: 'azurekeyvault', client_secret: secret }, {}, 'VAULT_AZUREKEYVAULT_KEY_NAME'],
      [{ ...azure, client_secret: secret }, {}, 'seal.client_secret needs seal.tenant_id'],
      [{ type: 'gcpckms' }, {}, 'GOOGLE_PROJECT'],
      [{ ...gcp }, { GOOGLE_CREDENTIALS: `{"private_key": "${secret}"}` }, 'path of a key file'],
    ];
    for (const [stanza, env, named] of missing) {
      const { code, seen } = refusal(() =>
        createRootKeyWrapper(stanza as unknown as SealStanza, env),
      );
      expect(code).toBe('ERR_INVALID_CONFIG');
      expect(seen).toContain(named);
      expect(seen).not.toContain(secret);
    }
  });

  it('refuses case variants of the type names, saying how Vault writes them', () => {
    for (const type of ['AWSKMS', 'AwsKms', 'AzureKeyVault', 'GCPCKMS', 'Transit']) {
      const { code, seen } = refusal(() => parseSealStanza({ ...aws, type }));
      expect(code).toBe('ERR_INVALID_CONFIG');
      expect(seen).toContain(`"${type.toLowerCase()}"`);
    }
    for (const type of ['aws-kms', 'awskms ', 'gcpkms', 'azure']) {
      expect(refusal(() => parseSealStanza({ ...aws, type })).seen).toContain('seal.type');
    }
  });

  it('refuses an endpoint carrying credentials (never repeating it), plain http off loopback, or a query', () => {
    const password = canary();
    const endpoints: [string, string][] = [
      [`https://AKIA0000:${password}@kms.internal`, 'must not carry credentials'],
      [`https://${password}@kms.internal`, 'must not carry credentials'],
      [`HTTPS://user:${password}@kms.internal:8443/path`, 'must not carry credentials'],
      ['http://kms.internal', 'plain http only to a loopback'],
      [`https://kms.internal/?X-Amz-Signature=${password}`, 'query'],
      ['ftp://kms.internal', 'https URL'],
      ['kms.internal', 'https URL'],
    ];
    for (const [endpoint, named] of endpoints) {
      for (const call of [
        () => parseSealStanza({ ...aws, endpoint }),
        () => createRootKeyWrapper({ ...aws } as SealStanza, { AWS_KMS_ENDPOINT: endpoint }),
      ]) {
        const { code, seen } = refusal(call);
        expect(code).toBe('ERR_INVALID_CONFIG');
        expect(seen).toContain(named);
        expect(seen).not.toContain(password);
      }
    }
    expect(
      createRootKeyWrapper({ ...aws, endpoint: 'http://127.0.0.1:8200' } as SealStanza, {}).type,
    ).toBe('awskms');
  });

  it('resolves gcpckms credentials relative to the configuration directory', () => {
    const config = parseServerConfig(
      { storage: 'data.db', seal: { ...gcp, credentials: 'gcp-key.json' } },
      '/etc/custos',
    );
    expect(config.seal).toEqual({ ...gcp, credentials: '/etc/custos/gcp-key.json' });
  });
});
