import { type RecordingServer, recordingServer } from '@custos/test-support/http';
import { afterEach, describe, expect, it } from 'vitest';
import { type CustosError, isCustosError } from '../errors/index.js';
import { createTransitClient } from '../kms/index.js';
import { vaultKv } from '../secrets/index.js';
import { createServerClient } from './index.js';

/**
 * A path with dot segments must never be resolved client-side: `fetch` (a WHATWG URL parser)
 * turns `secret/data/../../sys/x` into `sys/x` before sending, so the server's refusal of `..`
 * never fires and the request reaches a route the caller never named. Each case is sent to a
 * local server that records what arrives: nothing may.
 */

const servers: RecordingServer[] = [];
async function recording() {
  const started = await recordingServer(() => ({ status: 200, body: '{"data":{"data":{}}}' }));
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function failure(run: () => unknown): Promise<CustosError> {
  try {
    await run();
  } catch (err) {
    if (isCustosError(err)) return err;
    throw err;
  }
  throw new Error('expected a CustosError');
}

/** Every spelling a URL parser resolves as `..` or `.`, or reads as a separator or cut-off. */
const TRAVERSING_PATHS = [
  'secret/data/../../transit/keys/k1',
  '../../sys/policies/acl/default',
  'secret/data/app/../../../sys/policies/acl/evil',
  'secret/data/app/..',
  'secret/data/app/../?list=true',
  'secret/data/%2e%2e/%2E%2E/sys/policies/acl/default',
  'secret/data/.%2e/x',
  'secret/data/%2e./x',
  'secret/data/./x',
  'secret/data/%2e/x',
  'secret/data/..\\..\\sys\\policies\\acl\\default',
  'secret/data\\x',
  'secret/data/.\t./x',
  'secret/data/..\n/x',
  'secret/data/.\r./x',
  'secret/data/.. ',
  'secret/data/app/x ',
  'secret/data/app#/../../sys/policies/acl/default',
  'secret/data//x',
  'secret//data/x',
  'secret/data/x\x00',
  '',
  '/',
];

describe('the server client refuses paths a URL parser would change', () => {
  it.each(TRAVERSING_PATHS)(
    'refuses %j with ERR_INVALID_ARGUMENT before sending anything',
    async (path) => {
      const server = await recording();
      const client = createServerClient({ address: server.url, auth: { token: 't' } });
      for (const method of ['GET', 'POST', 'DELETE', 'LIST'] as const) {
        const viaCall = await failure(() => client.call(method, path));
        expect(viaCall.code).toBe('ERR_INVALID_ARGUMENT');
        expect(viaCall.message).toMatch(/^refusing the request path ".*": /);
        const viaRequest = await failure(() => client.request(method, path, { body: {} }));
        expect(viaRequest.code).toBe('ERR_INVALID_ARGUMENT');
      }
      expect(server.seen).toEqual([]);
    },
  );

  it('logs in with AppRole neither: a refused path costs no secret-ID use', async () => {
    const server = await recording();
    const client = createServerClient({
      address: server.url,
      auth: { roleId: 'role', secretId: 'secret-id-123' },
    });
    expect((await failure(() => client.call('GET', 'secret/data/../../sys/x'))).code).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    // A login under a mount that traverses is refused the same way.
    const traversingMount = createServerClient({
      address: server.url,
      auth: { roleId: 'role', secretId: 'secret-id-123', mount: '../sys' },
    });
    expect((await failure(() => traversingMount.call('GET', 'secret/data/app'))).code).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(server.seen).toEqual([]);
  });

  it('sends paths that only look alike, unchanged: dots inside names, encoded names, a final slash, queries', async () => {
    const server = await recording();
    const client = createServerClient({ address: server.url, auth: { token: 't' } });
    const sent = [
      'secret/data/app/...',
      'secret/data/app/.env',
      'secret/data/app/..hidden',
      'secret/data/app/v1..2',
      `secret/data/${encodeURIComponent('a b')}/${encodeURIComponent('x#y')}`,
      `secret/data/${encodeURIComponent('back\\slash')}`,
      'secret/data/%252e%252e/x',
      'secret/metadata/app/?list=true',
      'secret/data/app?version=2',
      '/sys/seal-status',
    ];
    for (const path of sent) await client.call('GET', path);
    expect(server.seen.map((r) => r.url)).toEqual([
      '/v1/secret/data/app/...',
      '/v1/secret/data/app/.env',
      '/v1/secret/data/app/..hidden',
      '/v1/secret/data/app/v1..2',
      '/v1/secret/data/a%20b/x%23y',
      '/v1/secret/data/back%5Cslash',
      '/v1/secret/data/%252e%252e/x',
      '/v1/secret/metadata/app/?list=true',
      '/v1/secret/data/app?version=2',
      '/v1/sys/seal-status',
    ]);
  });
});

describe('the clients built on it inherit the refusal', () => {
  it.each([
    { path: '../../sys/policies/acl/default' },
    { path: 'app/../../../transit/keys/k1' },
    { path: 'app//x' },
    { path: 'app', mount: '../sys' },
    { path: 'app', mount: 'secret/.' },
  ])('vaultKv refuses %j when created, and nothing is sent', async (where) => {
    const server = await recording();
    const error = await failure(() =>
      vaultKv({ address: server.url, auth: { token: 't' }, ...where }),
    );
    expect(error.code).toBe('ERR_SECRET_PROVIDER');
    expect(error.cause).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(error.message).toMatch(/^refusing the request path /);
    expect(server.seen).toEqual([]);
  });

  it('vaultKv sends names that only look like dot segments as names (each segment is encoded)', async () => {
    const server = await recording();
    for (const path of ['app/%2e%2e/%2e%2e/sys', 'app\\..\\..\\sys']) {
      await vaultKv({ address: server.url, auth: { token: 't' }, path }).get('X');
    }
    expect(server.seen.map((r) => r.url)).toEqual([
      '/v1/secret/data/app/%252e%252e/%252e%252e/sys',
      '/v1/secret/data/app%5C..%5C..%5Csys',
    ]);
  });

  it('the transit client refuses key names "." and ".." for every operation', async () => {
    const server = await recording();
    const transit = createTransitClient({ address: server.url, auth: { token: 't' } });
    for (const name of ['.', '..']) {
      for (const operation of [
        () => transit.encrypt(name, Buffer.from('x')),
        () => transit.decrypt(name, 'vault:v1:AAAA'),
        () => transit.rewrap(name, 'vault:v1:AAAA'),
        () => transit.latestVersion(name),
      ]) {
        const error = await failure(operation);
        expect(error.code).toBe('ERR_KMS_REMOTE');
        expect(error.cause).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      }
    }
    // Names that only look alike are encoded, and sent as names.
    await transit.latestVersion('%2e%2e').catch(() => {});
    expect(server.seen.map((r) => r.url)).toEqual(['/v1/transit/keys/%252e%252e']);
    server.seen.length = 0;
    // A mount that traverses, too.
    const elsewhere = createTransitClient({
      address: server.url,
      auth: { token: 't' },
      mount: 'transit/..',
    });
    const error = await failure(() => elsewhere.encrypt('k1', Buffer.from('x')));
    expect(error.cause).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(server.seen).toEqual([]);
  });
});
