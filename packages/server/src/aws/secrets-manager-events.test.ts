import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { vaultKv } from '@custos/core/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKey, smClient } from '../../test/aws.js';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

/** A value made at run time: it must never reach a change event. */
const canary = () => `canary-${randomBytes(6).toString('hex')}`;

describe.each(await storageKinds())('Secrets Manager writes as change events on %s', (kind) => {
  let s: TestServer;
  let sm: SecretsManagerClient;
  let reader: string;
  const poll = (query: string) => s.request('GET', `sys/events/kv?${query}`, { token: reader });
  /** The current index (the first poll resyncs). */
  const currentIndex = async () => {
    const first = await poll('wait=0');
    expect(first.body.data.resync).toBe(true);
    return first.body.data.index as number;
  };
  /** The events after `index` under `prefix`, as [path, kind], and the text answered. */
  const eventsAfter = async (index: number, prefix: string) => {
    const answer = await poll(`prefix=${prefix}&index=${index}&wait=0`);
    expect(answer.status).toBe(200);
    return {
      seen: answer.body.data.events.map((e: { path: string; kind: string }) => [e.path, e.kind]),
      text: answer.text,
    };
  };

  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.policy('sm-all', { 'secret/*': ['create', 'read', 'update', 'delete', 'list'] });
    await s.policy('sm-events', {
      'sys/events/kv': ['read'],
      'secret/data/sm/*': ['read'],
    });
    sm = smClient(s, await accessKey(s, ['sm-all']));
    reader = await s.token({ policies: ['sm-events'] });
  });
  afterAll(async () => {
    sm?.destroy();
    await s.close();
  });

  it('a watch sees a PutSecretValue, naming the secret and no value', async () => {
    const first = canary();
    await sm.send(new CreateSecretCommand({ Name: 'sm/db', SecretString: first }));
    const index = await currentIndex();
    const waiting = poll(`prefix=secret/sm/&index=${index}&wait=20s`);
    const next = canary();
    await sm.send(new PutSecretValueCommand({ SecretId: 'sm/db', SecretString: next }));
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(
      answer.body.data.events.map((e: { path: string; kind: string }) => [e.path, e.kind]),
    ).toEqual([['secret/sm/db', 'write']]);
    expect(answer.text).not.toContain(next);
    expect(answer.text).not.toContain(first);
  });

  it('publishes creates, value updates, metadata updates and deletes; reads publish nothing', async () => {
    const index = await currentIndex();
    await sm.send(new CreateSecretCommand({ Name: 'sm/kinds', SecretString: canary() }));
    await sm.send(new GetSecretValueCommand({ SecretId: 'sm/kinds' }));
    await sm.send(new UpdateSecretCommand({ SecretId: 'sm/kinds', Description: 'd' }));
    await sm.send(new UpdateSecretCommand({ SecretId: 'sm/kinds', SecretString: canary() }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'sm/kinds', RecoveryWindowInDays: 7 }));
    const { seen } = await eventsAfter(index, 'secret/sm/kinds');
    expect(seen).toEqual([
      ['secret/sm/kinds', 'write'],
      ['secret/sm/kinds', 'metadata'],
      ['secret/sm/kinds', 'write'],
      ['secret/sm/kinds', 'delete'],
    ]);
  });

  it('publishes nothing for a refused write, and hides secrets the watcher may not read', async () => {
    const hidden = canary();
    const index = await currentIndex();
    // Refused: no such secret. Nothing changed, nothing is published.
    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: 'sm/missing', SecretString: canary() })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    // Outside the reader's policy: published, but not shown to this token.
    await sm.send(new CreateSecretCommand({ Name: `other/${hidden}`, SecretString: canary() }));
    const { seen, text } = await eventsAfter(index, '');
    expect(seen).toEqual([]);
    expect(text).not.toContain(hidden);
  });

  it("drops the SDK's cached value when a PutSecretValue changes the secret", async () => {
    await sm.send(new CreateSecretCommand({ Name: 'sm/sdk', SecretString: canary() }));
    const provider = vaultKv({
      address: s.url,
      auth: { token: reader },
      path: 'sm/sdk',
      watch: { waitSeconds: 2 },
    });
    const notified = new Promise<void>((resolve) => {
      const stop = provider.watch?.(() => {
        stop?.();
        resolve();
      });
    });
    // The watch's first poll only learns the current index: write until a write is seen.
    let seen = false;
    void notified.then(() => {
      seen = true;
    });
    for (let i = 0; i < 40 && !seen; i++) {
      await sm.send(new PutSecretValueCommand({ SecretId: 'sm/sdk', SecretString: canary() }));
      await Promise.race([notified, new Promise((resolve) => setTimeout(resolve, 250))]);
    }
    expect(seen).toBe(true);
  });
});
