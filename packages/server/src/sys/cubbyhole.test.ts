import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

describe.each(await storageKinds())('cubbyhole/ on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  const cubbyholePaths = () => s.server.context.barrier.listPaths('sys/token/cubbyhole/');

  it('keeps what a token writes for that token alone, with the default policy only', async () => {
    const [a, b] = [await s.token({ policies: ['default'] }), await s.token({})];
    const value = randomBytes(8).toString('hex');
    expect(
      (await send(s.url, 'POST', 'cubbyhole/note', { token: a, body: { value } })).status,
    ).toBe(204);
    const read = await send(s.url, 'GET', 'cubbyhole/note', { token: a });
    expect(read.body).toMatchObject({ data: { value }, lease_duration: 0 });
    expect((await send(s.url, 'LIST', 'cubbyhole/', { token: a })).body.data.keys).toEqual([
      'note',
    ]);
    expect((await send(s.url, 'GET', 'cubbyhole/note', { token: b })).status).toBe(404);
    expect((await send(s.url, 'LIST', 'cubbyhole/', { token: b })).status).toBe(404);
    expect((await send(s.url, 'GET', 'cubbyhole/note', { token: null })).status).toBe(403);
    expect((await send(s.url, 'DELETE', 'cubbyhole/note', { token: a })).status).toBe(204);
    expect((await send(s.url, 'GET', 'cubbyhole/note', { token: a })).status).toBe(404);
  });

  it('is removed with its token when the token is revoked', async () => {
    const before = (await cubbyholePaths()).length;
    const token = await s.token({});
    await send(s.url, 'POST', 'cubbyhole/a', { token, body: { v: '1' } });
    await send(s.url, 'POST', 'cubbyhole/b/c', { token, body: { v: '2' } });
    expect((await cubbyholePaths()).length).toBe(before + 2);
    expect((await send(s.url, 'POST', 'auth/token/revoke-self', { token })).status).toBe(204);
    expect((await cubbyholePaths()).length).toBe(before);
  });

  it('cannot be disabled or moved', async () => {
    expect((await s.request('DELETE', 'sys/mounts/cubbyhole')).status).toBe(400);
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'cubbyhole', to: 'cub' } })).status,
    ).toBe(400);
  });
});
