import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())('sys/internal/ui/mounts on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.policy('app-reader', { 'secret/data/app/*': ['read'] });
    await s.policy('transit-user', { 'transit/encrypt/*': ['update'] });
    await s.policy('secret-denied', { 'secret/*': ['deny'] });
  });
  afterAll(async () => {
    await s.close();
  });

  const lookup = async (policies: string[], path: string) =>
    send(s.url, 'GET', `sys/internal/ui/mounts/${path}`, {
      token: await s.token({ policies }), // each also gets `default`, which allows the lookup
    });

  it('describes a mount to a token with some capability under it', async () => {
    const found = await lookup(['app-reader'], 'secret/app/db');
    expect(found.status).toBe(200);
    expect(found.body.data).toMatchObject({
      path: 'secret/',
      type: 'kv',
      options: { version: '2' },
    });
    expect((await lookup(['transit-user'], 'transit/keys/x')).body.data).toMatchObject({
      path: 'transit/',
      type: 'transit',
    });
  });

  it('refuses with 403 a token that reaches nothing under the mount (default policy only, another mount, deny)', async () => {
    for (const [policies, path] of [
      [['default'], 'secret/app/db'],
      [['transit-user'], 'secret/app/db'],
      [['app-reader'], 'transit/keys/x'],
      [['secret-denied'], 'secret/app/db'],
    ] as const) {
      const response = await lookup([...policies], path);
      expect(response, `${policies.join(',')} → ${path}`).toMatchObject({
        status: 403,
        body: { errors: ['permission denied'] },
      });
    }
  });
});
