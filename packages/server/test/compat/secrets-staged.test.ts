import { randomBytes } from 'node:crypto';
import { createScrubber } from '@custos/core/redaction';
import { createSecrets, dotenvFiles, vaultKv } from '@custos/core/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PENDING_LABEL } from '../../src/kv/kv-labels.js';
import { startTestServer, storageKinds, type TestServer } from '../harness.js';

describe.each(await storageKinds())('the secrets SDK reads staging labels on %s', (kind) => {
  let s: TestServer;
  const [older, newer, pending] = [1, 2, 3].map(() => randomBytes(16).toString('hex'));
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.request('POST', 'secret/data/app/staged', { body: { data: { API_KEY: older } } });
    await s.request('POST', 'secret/data/app/staged', { body: { data: { API_KEY: newer } } });
    await s.server.context.kv.write('app/staged', { API_KEY: pending }, undefined, {
      labels: [PENDING_LABEL],
    });
  });
  afterAll(async () => {
    await s.close();
  });

  it('getSecret(name, { stage }) reads current (cached), previous and pending', async () => {
    const scrubber = createScrubber();
    const secrets = createSecrets({
      environment: 'development',
      scrubber,
      providers: [vaultKv({ address: s.url, auth: { token: 'root' }, path: 'app/staged' })],
    });
    try {
      expect((await secrets.getSecret('API_KEY'))?.reveal()).toBe(newer);
      expect((await secrets.getSecret('API_KEY', { stage: 'current' }))?.reveal()).toBe(newer);
      expect((await secrets.getSecret('API_KEY', { stage: 'previous' }))?.reveal()).toBe(older);
      expect((await secrets.getSecret('API_KEY', { stage: 'pending' }))?.reveal()).toBe(pending);
      expect(await secrets.getSecret('NOT_THERE', { stage: 'previous' })).toBeUndefined();
      // The previous value is registered with the scrubber like any other value read.
      expect(scrubber.redact(`failed with ${older}`)).not.toContain(older);
    } finally {
      secrets.close();
    }
  });

  it('a stage the key has no version for is undefined, and a provider without versions is refused', async () => {
    await s.request('POST', 'secret/data/app/single', { body: { data: { K: newer } } });
    const secrets = createSecrets({
      environment: 'development',
      providers: [vaultKv({ address: s.url, auth: { token: 'root' }, path: 'app/single' })],
    });
    try {
      expect(await secrets.getSecret('K', { stage: 'previous' })).toBeUndefined();
    } finally {
      secrets.close();
    }
    const plain = createSecrets({
      environment: 'development',
      providers: [dotenvFiles({ mode: 'development', directory: '/nonexistent-custos-dir' })],
    });
    try {
      await expect(plain.getSecret('K', { stage: 'previous' })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    } finally {
      plain.close();
    }
  });
});
