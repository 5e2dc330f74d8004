import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

// Vault answers `Content-Type: application/json` exactly; clients compare the header whole
// (@litehex/node-vault refuses to parse any other spelling).
describe.each(await storageKinds())('the JSON content type on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  it.each([
    ['a read', 'GET', 'sys/mounts', undefined, undefined],
    ['a write', 'POST', 'secret/data/a', { data: { x: '1' } }, undefined],
    ['an error', 'GET', 'secret/data/none', undefined, undefined],
    ['an unknown path', 'GET', 'nowhere/at/all', undefined, undefined],
    ['a refused token', 'GET', 'sys/mounts', undefined, 'not-a-token'],
    ['a wrapped answer', 'POST', 'sys/wrapping/wrap', { x: '1' }, undefined],
  ])('is exactly application/json on %s', async (_name, method, path, body, token) => {
    const headers: Record<string, string> =
      path === 'sys/wrapping/wrap' ? { 'x-vault-wrap-ttl': '60s' } : {};
    const r = await s.request(method, path, {
      ...(body === undefined ? {} : { body }),
      ...(token === undefined ? {} : { token }),
      headers,
    });
    expect(r.headers.get('content-type')).toBe('application/json');
  });
});
