import { randomBytes } from 'node:crypto';
import {
  gcpTestAuth,
  startFakeGcpKms,
  startFakeKeyVault,
  startHttpsJsonServer,
} from '@custos/test-support/cloud-kms';
import { describe, expect, it } from 'vitest';
import { createTestStorage, send } from '../../test/harness.js';
import { startSealedServer } from '../../test/seal.js';
import { until } from '../../test/until.js';
import type { SealStanza } from './seal-stanza.js';

/**
 * Cloud seal failures against the local stand-ins: a KMS that never answers (the bound on each
 * call), and the Azure service principal built from the stanza's fields with a wrong secret.
 */
describe('a cloud seal whose KMS never answers (contract)', () => {
  it('fails each try after the bound and stays sealed, retrying; the server still closes', async () => {
    const silent = await startHttpsJsonServer(() => new Promise(() => {}));
    const storage = await createTestStorage('sqlite');
    const logs: string[] = [];
    try {
      // Initialised against a stand-in that answers, then restarted against the silent one.
      const fake = await startFakeGcpKms(
        'projects/acme-vault/locations/global/keyRings/custos/cryptoKeys/seal',
      );
      const stanza: SealStanza = {
        type: 'gcpckms',
        project: 'acme-vault',
        key_ring: 'custos',
        crypto_key: 'seal',
      };
      try {
        const first = await startSealedServer(storage.location, {
          seal: stanza,
          env: {},
          sealClients: {
            gcp: {
              authClient: gcpTestAuth(fake.server, fake.token),
              apiEndpoint: '127.0.0.1',
              port: fake.server.port,
            },
          },
        });
        try {
          const init = await send(first.url, 'POST', 'sys/init', {
            body: { recovery_shares: 1, recovery_threshold: 1 },
          });
          expect(init.status).toBe(200);
        } finally {
          await first.close();
        }
      } finally {
        await fake.close();
      }
      const node = await startSealedServer(storage.location, {
        seal: stanza,
        env: {},
        sealClients: {
          gcp: {
            authClient: gcpTestAuth(silent, 'ya29.silent'),
            apiEndpoint: '127.0.0.1',
            port: silent.port,
          },
          timeoutMs: 200,
        },
        logLevel: 'info',
        logDestination: { write: (line) => void logs.push(line) },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      });
      try {
        await until(
          async () => logs.filter((l) => l.includes('did not answer within 200 ms')).length >= 2,
          'two timed-out tries',
        );
        expect((await send(node.url, 'GET', 'sys/seal-status')).body.sealed).toBe(true);
        expect(logs.join('\n')).toContain('gcpckms seal key projects/acme-vault');
      } finally {
        await node.close();
      }
    } finally {
      await silent.close();
      await storage.cleanup();
    }
  });
});

describe('the azurekeyvault seal with a service principal from the stanza (contract)', () => {
  it('gets its token with the client secret; a wrong one keeps the server sealed and is never logged', async () => {
    const fake = await startFakeKeyVault({ 'custos-seal': 'RSA-HSM' });
    const storage = await createTestStorage('sqlite');
    const logs: string[] = [];
    const stanza: SealStanza = {
      type: 'azurekeyvault',
      vault_name: 'acme-seal',
      key_name: 'custos-seal',
      tenant_id: fake.tenantId,
      client_id: fake.clientId,
    };
    const start = (secret: string) =>
      startSealedServer(storage.location, {
        seal: stanza,
        env: { AZURE_CLIENT_SECRET: secret },
        sealClients: {
          azure: {
            vaultUrl: fake.vaultUrl,
            agent: fake.server.agent,
            disableChallengeResourceVerification: true,
            credentialOptions: {
              authorityHost: fake.vaultUrl,
              disableInstanceDiscovery: true,
              agent: fake.server.agent,
              retryOptions: { maxRetries: 0 },
            },
          },
        },
        logLevel: 'info',
        logDestination: { write: (line) => void logs.push(line) },
        autoUnsealBackoff: { initialMs: 20, maxMs: 100 },
      });
    try {
      const first = await start(fake.clientSecret);
      try {
        const init = await send(first.url, 'POST', 'sys/init', {
          body: { recovery_shares: 1, recovery_threshold: 1 },
        });
        expect(init.status).toBe(200);
      } finally {
        await first.close();
      }
      const canary = `CANARY${randomBytes(12).toString('hex')}`;
      const refused = await start(canary);
      try {
        await until(
          async () => logs.filter((l) => l.includes('auto-unseal failed')).length >= 2,
          'a failure and a retry',
        );
        expect(logs.join('\n')).toContain('ERR_KMS_LOGIN_FAILED');
        const status = await send(refused.url, 'GET', 'sys/seal-status');
        expect(status.body.sealed).toBe(true);
        const seen = `${logs.join('\n')}\n${status.text}`;
        expect(seen).not.toContain(canary);
        expect(seen).not.toContain(fake.clientSecret);
      } finally {
        await refused.close();
      }
      logs.length = 0;
      const again = await start(fake.clientSecret);
      try {
        await until(
          async () => (await send(again.url, 'GET', 'sys/seal-status')).body.sealed === false,
          'the auto-unseal with the right secret',
        );
        expect(logs.join('\n')).not.toContain(fake.clientSecret);
      } finally {
        await again.close();
      }
    } finally {
      await storage.cleanup();
      await fake.close();
    }
  });
});
