import { type RecordingServer, recordingServer } from '@custos/test-support/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos } from '../../../test/cli.js';

/**
 * `custos kv` against a local server that records every request: a key path with `.` or `..`
 * segments must be refused by the CLI, never resolved by `fetch`'s URL parser into a request for
 * another route (`kv delete ../../transit/keys/k1` once sent `DELETE /v1/transit/keys/k1`).
 */

let server: RecordingServer;
beforeAll(async () => {
  server = await recordingServer(() => ({
    status: 200,
    body: '{"data":{"data":{"k":"v"},"metadata":{"version":1},"keys":[]}}',
  }));
});
afterAll(async () => {
  await server.close();
});

const TRAVERSING = [
  '../../transit/keys/k1',
  '../../sys/policies/acl/default',
  'app/../../../sys/policies/acl/evil',
  'app/..',
  './app',
  'app/./db',
  'app//db',
];

/** Every kv command, with `path` in its place. */
const commands = (path: string): string[][] => [
  ['kv', 'get', path],
  ['kv', 'put', path, 'v=1'],
  ['kv', 'patch', path, 'v=1'],
  ['kv', 'list', path],
  ['kv', 'delete', path],
  ['kv', 'undelete', '--versions', '1', path],
  ['kv', 'destroy', '--versions', '1', path],
  ['kv', 'metadata', 'get', path],
  ['kv', 'metadata', 'put', '--max-versions', '3', path],
  ['kv', 'metadata', 'delete', path],
];

describe('custos kv refuses key paths the URL parser would resolve', () => {
  it.each(TRAVERSING)(
    '%s: every kv command exits 2 with ERR_INVALID_ARGUMENT, nothing sent',
    async (path) => {
      const env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: 't' };
      for (const args of commands(path)) {
        const result = await custos(args, { env });
        expect(result.code, args.join(' ')).toBe(2);
        expect(result.stderr, args.join(' ')).toMatch(
          /^custos: refusing the request path ".*": .*\[ERR_INVALID_ARGUMENT\]\n$/,
        );
      }
      expect(server.seen).toEqual([]);
    },
  );

  it('refuses a --mount that traverses, too', async () => {
    const env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: 't' };
    for (const mount of ['../sys', 'secret/..', '.']) {
      const result = await custos(['kv', 'get', '--mount', mount, 'app/db'], { env });
      expect(result.code, mount).toBe(2);
      expect(result.stderr).toContain('[ERR_INVALID_ARGUMENT]');
    }
    expect(server.seen).toEqual([]);
  });

  it('sends names that only look alike as names: encoded dots and backslashes, dots inside a name', async () => {
    const env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: 't' };
    for (const path of ['app/%2e%2e/x', 'app\\..\\x', 'app/..db', 'app/...']) {
      const result = await custos(['kv', 'get', path], { env });
      expect(result.code, path).toBe(0);
    }
    expect(server.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /v1/secret/data/app/%252e%252e/x',
      'GET /v1/secret/data/app%5C..%5Cx',
      'GET /v1/secret/data/app/..db',
      'GET /v1/secret/data/app/...',
    ]);
    server.seen.length = 0;
  });
});
