import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import {
  MAX_ANONYMOUS_JSON_VALUES,
  MAX_ANONYMOUS_KEY_CHARS,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
} from './body-parser.js';

function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let data = '';
    socket.on('data', (c) => {
      data += c;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
  });
}

describe.each(await storageKinds())(
  'malformed input on %s: a clear 4xx, and the server keeps serving',
  (kind) => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind, { maxRequestBytes: 2048 });
    });
    afterAll(async () => {
      await s.close();
    });

    it.each([
      ['truncated JSON', '{"data":{"a":"b"', 'request body is not valid JSON'],
      ['not JSON at all', 'password=hunter2', 'request body is not valid JSON'],
      ['a JSON array', '[1,2,3]', 'request body must be a JSON object'],
      ['a JSON string', '"text"', 'request body must be a JSON object'],
    ])('%s → 400', async (_label, body, message) => {
      const response = await s.request('POST', 'secret/data/bad', { raw: body });
      expect(response).toMatchObject({ status: 400, body: { errors: [message] } });
    });

    it.each([
      ['data as a string', { data: 'x' }, 'data must be a JSON object'],
      ['data missing', { options: {} }, 'no data provided'],
      ['cas negative', { data: {}, options: { cas: -1 } }, 'error parsing check-and-set parameter'],
      ['options not an object', { data: {}, options: 5 }, 'options must be an object'],
    ])('wrong types (%s) → 400 naming the field', async (_label, body, message) => {
      expect(await s.request('POST', 'secret/data/bad', { body })).toMatchObject({
        status: 400,
        body: { errors: [message] },
      });
    });

    it('wrong types elsewhere → 400', async () => {
      const cases = [
        await s.request('POST', 'secret/destroy/bad', { body: { versions: 'all' } }),
        await s.request('POST', 'secret/metadata/bad', { body: { max_versions: 'ten' } }),
        await s.request('POST', 'secret/metadata/bad', { body: { delete_version_after: 'soon' } }),
        await s.request('POST', 'secret/metadata/bad', { body: { cas_required: 'yes' } }),
        await s.request('POST', 'sys/policies/acl/p', { body: { policy: 42 } }),
        await s.request('POST', 'sys/policies/acl/p', {
          body: { policy: 'path "x" { capabilities = ["fly"] }' },
        }),
        await s.request('POST', 'sys/policies/acl/p', {
          body: { policy: 'path "x" { capabilities = ["read" }' },
        }),
        await s.request('POST', 'auth/token/create', { body: { ttl: 'forever' } }),
        await s.request('POST', 'auth/token/create', { body: { policies: 7 } }),
        await s.request('POST', 'auth/approle/role/r', { body: { secret_id_num_uses: -2 } }),
        await s.request('POST', 'sys/capabilities-self', { body: {} }),
      ];
      for (const response of cases) {
        expect(response.status).toBe(400);
        expect(response.body.errors[0]).toEqual(expect.any(String));
      }
      expect(cases[5]?.body.errors[0]).toMatch(/^path rule 1: unknown capability \(use /);
      expect(cases[6]?.body.errors[0]).toMatch(
        /^policy is not valid HCL: policy:1,35-36: Missing item separator/,
      );
    });

    it('bodies over the limit → 413', async () => {
      const response = await s.request('POST', 'secret/data/big', {
        body: { data: { v: 'x'.repeat(5000) } },
      });
      expect(response).toMatchObject({ status: 413, body: { errors: ['request body too large'] } });
    });

    it('unknown paths → 404, as Vault answers each', async () => {
      const unsupported = { errors: ['1 error occurred:\n\t* unsupported path\n\n'] };
      for (const path of ['sys/nope', 'sys/wrapping/nope', 'sys/rekey']) {
        expect(await s.request('GET', path)).toMatchObject({ status: 404, body: unsupported });
      }
      expect(await s.request('GET', 'transit/keys/x')).toMatchObject({
        status: 404,
        body: { errors: [] },
      });
      expect(await s.request('GET', 'nope/x')).toMatchObject({
        status: 404,
        body: { errors: ['no handler for route "nope/x". route entry not found.'] },
      });
      // A version 1 path on the KV version 2 mount: Vault's hint.
      expect(await s.request('GET', 'secret/nope/x')).toMatchObject({
        status: 404,
        body: { warnings: [expect.stringMatching(/^Invalid path for a versioned K\/V/)] },
      });
    });

    it('huge keys, bad encodings and control characters → 4xx', async () => {
      expect((await s.request('GET', `secret/data/${'k'.repeat(1100)}`)).body.errors[0]).toMatch(
        /longer than 1024/,
      );
      expect((await s.request('GET', 'secret/data/%E0%A4%A')).status).toBe(400);
      expect((await s.request('GET', 'secret/data/a%00b')).body.errors[0]).toMatch(
        /control characters/,
      );
      const veryLong = await raw(
        s.url,
        `GET /v1/secret/data/${'k'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      expect(veryLong).toMatch(/^HTTP\/1.1 4\d\d/);
      const garbage = await raw(s.url, '\u0000\u0001garbage\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1.1 400/);
    });

    it.each([
      ['a fragment', '/v1/secret/data/a#b', "'#' is not allowed in a request"],
      ['a semicolon', '/v1/secret/data/a;b', "';' is not allowed in a request path"],
      [
        'an encoded slash in a name',
        '/v1/sys/policies/acl/a%2Fb',
        "'/' is not allowed within :name",
      ],
      [
        'the absolute form',
        'http://localhost/v1/secret/data/a',
        'the request path must start with /v1/',
      ],
      ['a dot-dot segment', '/v1/secret/data/x/../a', 'path has an empty, "." or ".." segment'],
      ['an upper-case policy name', '/v1/sys/policies/acl/Default', 'policy names are'],
    ])('paths read two ways (%s) → 400 naming the problem', async (_label, target, message) => {
      const response = await raw(
        s.url,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nConnection: close\r\n\r\n`,
      );
      expect(response).toMatch(/^HTTP\/1.1 400 /);
      expect(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)).errors[0]).toContain(
        message,
      );
    });

    it.each([
      ['a bad escape', '/v1/secret/data/a%ZZ?x=canary-url-51e0'],
      ['a truncated escape', '/v1/secret/data/a%E0%A4%A?q=canary-url-51e0'],
      ['an invalid UTF-8 sequence', '/v1/secret/data/%FF%FE?canary-url-51e0'],
    ])('a malformed URL (%s) → 400 in the API envelope, the URL not echoed', async (_l, target) => {
      const response = await raw(
        s.url,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nConnection: close\r\n\r\n`,
      );
      expect(response).toMatch(/^HTTP\/1.1 400 /);
      const [head = '', body = ''] = response.split('\r\n\r\n');
      expect(JSON.parse(body)).toEqual({ errors: ['malformed URL'] });
      expect(head.toLowerCase()).toContain('cache-control: no-store');
      expect(response).not.toContain('canary-url-51e0');
    });

    it('keeps serving after all of it', async () => {
      await Promise.all(
        Array.from({ length: 50 }, () => s.request('POST', 'secret/data/bad', { raw: '{{{' })),
      );
      expect(
        (await s.request('POST', 'secret/data/good', { body: { data: { ok: true } } })).status,
      ).toBe(200);
      expect((await s.request('GET', 'secret/data/good')).body.data.data).toEqual({ ok: true });
    });
  },
);

/** A JSON body nested `depth` levels deep, alternating objects and arrays, as `{"data":…}`. */
function nested(depth: number): string {
  const open = Array.from({ length: depth - 1 }, (_, i) => (i % 2 === 0 ? '{"a":' : '[')).join('');
  const close = Array.from({ length: depth - 1 }, (_, i) => (i % 2 === 0 ? '}' : ']'))
    .reverse()
    .join('');
  return `{"data":${open}1${close}}`;
}

describe.each(await storageKinds())('deeply nested JSON bodies on %s', (kind) => {
  let s: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-depth-'));
    // Audited: hashing the body's strings for the audit log walks the whole body.
    s = await startTestServer(kind, { audit: [{ type: 'file', path: join(dir, 'audit.log') }] });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['secret/data/deep'],
    ['sys/policies/acl/deep'],
    ['transit/encrypt/deep'],
    ['auth/token/create'],
    ['sys/unseal'],
  ])(
    'refuses a body nested 100,000 levels deep on %s with 400, before parsing it',
    async (path) => {
      const response = await s.request('POST', path, { raw: nested(100_000) });
      expect(response).toMatchObject({
        status: 400,
        body: { errors: [`JSON input exceeds allowed nesting depth (${MAX_JSON_DEPTH})`] },
      });
    },
  );

  it('counts the nesting of objects and arrays, never brackets inside strings', async () => {
    const atLimit = await s.request('POST', 'secret/data/deep-ok', {
      // The body object itself is one level: `data` holds the rest.
      raw: nested(MAX_JSON_DEPTH),
    });
    expect(atLimit.status).toBe(200);
    const overLimit = await s.request('POST', 'secret/data/deep-ok', {
      raw: nested(MAX_JSON_DEPTH + 1),
    });
    expect(overLimit.status).toBe(400);
    const brackets = `${'[{'.repeat(2000)}\\"`;
    const inString = await s.request('POST', 'secret/data/brackets', {
      raw: JSON.stringify({ data: { text: brackets } }),
    });
    expect(inString.status).toBe(200);
    expect((await s.request('GET', 'secret/data/brackets')).body.data.data.text).toBe(brackets);
  });

  it('keeps serving after deep bodies', async () => {
    await Promise.all(
      Array.from({ length: 5 }, () =>
        s.request('POST', 'secret/data/deep', { raw: nested(100_000) }),
      ),
    );
    expect(
      (await s.request('POST', 'secret/data/after', { body: { data: { ok: true } } })).status,
    ).toBe(200);
    expect((await s.request('GET', 'secret/data/after')).body.data.data).toEqual({ ok: true });
  });
});

/** A KV write body holding `total` JSON values (the body, `data`, an array, its elements). */
function withValues(total: number, element = '0'): string {
  return `{"data":{"a":[${Array.from({ length: total - 3 }, () => element).join(',')}]}}`;
}

// Every value of a request is HMAC'd into its audit entry, about 80 bytes each: one 3 MB body
// of numbers, sent without a token, held the server's event loop for seconds and wrote some
// 240 MB of audit log (found by a probe). Bodies are bounded in values before they are parsed.
describe('request bodies holding many values', () => {
  let s: TestServer;
  let dir: string;
  let audit: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-values-'));
    audit = join(dir, 'audit.log');
    s = await startTestServer('sqlite', { audit: [{ type: 'file', path: audit }] });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(`takes ${MAX_JSON_VALUES} values from a request with a token, refuses one more before reading it`, async () => {
    const atLimit = await s.request('POST', 'secret/data/many', {
      raw: withValues(MAX_JSON_VALUES),
    });
    expect(atLimit.status).toBe(200);
    const before = (await stat(audit)).size;
    const over = await s.request('POST', 'secret/data/too-many', {
      raw: withValues(MAX_JSON_VALUES + 1),
    });
    expect(over).toMatchObject({
      status: 400,
      body: { errors: [`JSON input exceeds allowed value count (${MAX_JSON_VALUES})`] },
    });
    // Refused before the audit log read it: nothing of it was written.
    expect((await stat(audit)).size).toBe(before);
    expect((await s.request('GET', 'secret/data/too-many')).status).toBe(404);
  });

  /** The audit entries written since `from` bytes into the log. */
  const entriesSince = async (from: number) =>
    (await readFile(audit, 'utf8'))
      .slice(from)
      .split('\n')
      .filter((line) => line !== '')
      // biome-ignore lint/suspicious/noExplicitAny: audit entries are read as written
      .map((line) => JSON.parse(line) as any);

  it(`takes ${MAX_ANONYMOUS_JSON_VALUES} values on a route open to anyone, refuses one more unread`, async () => {
    const unwrap = (raw: string, token: string | null) =>
      s.request('POST', 'sys/wrapping/unwrap', { raw, token });
    const atLimit = await unwrap(withValues(MAX_ANONYMOUS_JSON_VALUES), null);
    // Read, then refused for what it is: no wrapping token.
    expect(atLimit.status).toBe(400);
    expect(atLimit.body.errors[0]).not.toMatch(/value count/);
    const live = await s.token({ policies: ['root'] });
    const before = (await stat(audit)).size;
    for (const token of [null, 'not-a-token', live]) {
      const over = await unwrap(withValues(MAX_ANONYMOUS_JSON_VALUES + 1), token);
      expect(over).toMatchObject({
        status: 400,
        body: {
          errors: [
            `JSON input exceeds allowed value count (${MAX_ANONYMOUS_JSON_VALUES} without authentication)`,
          ],
        },
      });
    }
    expect((await stat(audit)).size).toBe(before);
  });

  // A body of more values is parsed only once its caller is authenticated. It used to be
  // enough that the token was live when the headers came (found by an outside probe: a one-use
  // token spent, revoked or expired before the body was sent, or a token used from outside its
  // bound CIDRs, bought 100,000 HMACs and 16 MB of audit log per request; and the refusal told
  // unaudited whether a guessed token existed).
  it('refuses a body of many values for its token, unread, when the token does not authenticate: audited without its values', async () => {
    await s.request('POST', 'auth/token/roles/far', {
      body: { allowed_policies: ['default'], token_bound_cidrs: ['10.9.9.0/24'] },
    });
    const bound = (await s.request('POST', 'auth/token/create/far', { body: {} })).body.auth
      .client_token as string;
    const revoked = await s.token({ policies: ['root'] });
    await s.request('POST', 'auth/token/revoke', { body: { token: revoked } });
    for (const headers of [
      {},
      { 'x-vault-token': 'not-a-token' },
      { authorization: 'Bearer not-a-token' },
      { 'x-vault-token': revoked },
      { 'x-vault-token': bound },
      {
        authorization:
          'AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/secretsmanager/aws4_request',
      },
    ]) {
      const before = (await stat(audit)).size;
      const refused = await s.request('POST', 'secret/data/unknown-token', {
        raw: withValues(MAX_JSON_VALUES),
        token: null,
        headers,
      });
      expect(refused.status).toBe(403);
      // Audited as any request its token does not admit, the body unread in it.
      const entries = await entriesSince(before);
      expect(entries.map((e) => [e.type, e.request.path, e.request.data ?? null])).toEqual([
        ['request', 'secret/data/unknown-token', null],
        ['response', 'secret/data/unknown-token', null],
      ]);
      expect((await stat(audit)).size - before).toBeLessThan(4096);
    }
    expect((await s.request('GET', 'secret/data/unknown-token')).status).toBe(404);
  });

  it('judges the token when the body has come, not when the headers did', async () => {
    const once = await s.token({ policies: ['root'], num_uses: 1 });
    const body = withValues(MAX_JSON_VALUES);
    const { hostname, port } = new URL(s.url);
    const socket = connect(Number(port), hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(
      'POST /v1/secret/data/late-body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n' +
        `X-Vault-Token: ${once}\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    // The headers are in; the token's one use is spent before the body follows.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await s.request('GET', 'sys/health', { token: once })).status).toBe(200);
    expect((await s.request('GET', 'secret/data/anything', { token: once })).status).toBe(404);
    const before = (await stat(audit)).size;
    socket.end(body);
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 403 /);
    expect((await stat(audit)).size - before).toBeLessThan(4096);
  });

  it('parses a body of many values for an authenticated token, a use spent once', async () => {
    const once = await s.token({ policies: ['root'], num_uses: 1 });
    const body = withValues(MAX_ANONYMOUS_JSON_VALUES + 1);
    const used = await s.request('POST', 'secret/data/one-use', { raw: body, token: once });
    expect(used.status).toBe(200);
    // That was its one use: the next request is refused.
    expect((await s.request('GET', 'secret/data/one-use', { token: once })).status).toBe(403);
    // Not JSON after all: refused once the token authenticated, its use spent, audited.
    const other = await s.token({ policies: ['root'], num_uses: 1 });
    const before = (await stat(audit)).size;
    const broken = await s.request('POST', 'secret/data/broken', {
      raw: `${body.slice(0, -2)}`,
      token: other,
    });
    expect(broken).toMatchObject({
      status: 400,
      body: { errors: ['request body is not valid JSON'] },
    });
    expect((await entriesSince(before)).map((e) => e.type)).toEqual(['request', 'response']);
    expect((await s.request('GET', 'sys/health', { token: other })).status).toBe(200);
    expect((await s.request('GET', 'secret/data/broken', { token: other })).status).toBe(403);
  });

  // A refused caller's body cost the audit log its keys in clear and ~80 bytes per value, per
  // entry, under any bound on values (found by an outside probe: 999 keys of 3.8 KB wrote 7.8 MB
  // of audit log per request with a bogus token).
  it('audits a request its token does not admit without its body, whatever its size', async () => {
    const canary = 'CANARY-refused-3c1f';
    const revoked = await s.token({ policies: ['root'] });
    await s.request('POST', 'auth/token/revoke', { body: { token: revoked } });
    for (const token of [null, 'not-a-token', revoked]) {
      const before = (await stat(audit)).size;
      const refused = await s.request('POST', 'secret/data/refused-body', {
        body: { data: { [`${canary}-${'k'.repeat(4000)}`]: canary } },
        token,
      });
      expect(refused.status).toBe(403);
      const entries = await entriesSince(before);
      expect(entries.map((e) => [e.type, e.request.data ?? null])).toEqual([
        ['request', null],
        ['response', null],
      ]);
      expect((await readFile(audit, 'utf8')).includes(canary)).toBe(false);
    }
    // Admitted, then refused by its policies: its caller is known, and its body audited.
    const reader = await s.token({ policies: ['default'] });
    const before = (await stat(audit)).size;
    const denied = await s.request('POST', 'secret/data/refused-body', {
      body: { data: { field: canary } },
      token: reader,
    });
    expect(denied.status).toBe(403);
    const [entry] = await entriesSince(before);
    expect(Object.keys(entry.request.data.data)).toEqual(['field']);
    expect(entry.request.data.data.field).toMatch(/^hmac-sha256:/);
  });

  it(`holds a body whose keys run past ${MAX_ANONYMOUS_KEY_CHARS} characters until its caller is known`, async () => {
    const keyed = (length: number) => JSON.stringify({ ['k'.repeat(length)]: 1 });
    const unwrap = (raw: string) => s.request('POST', 'sys/wrapping/unwrap', { raw, token: null });
    // Read, then refused for what it is: no wrapping token.
    const atLimit = await unwrap(keyed(MAX_ANONYMOUS_KEY_CHARS));
    expect(atLimit.status).toBe(400);
    expect(atLimit.body.errors[0]).not.toMatch(/exceeds/);
    const before = (await stat(audit)).size;
    expect(await unwrap(keyed(MAX_ANONYMOUS_KEY_CHARS + 1))).toMatchObject({
      status: 400,
      body: {
        errors: [
          `JSON input exceeds allowed length of object keys (${MAX_ANONYMOUS_KEY_CHARS} characters without authentication)`,
        ],
      },
    });
    // Keys counted as written, over all of the body's objects; a string value is no key.
    const spread = JSON.stringify({
      a: { ['x'.repeat(MAX_ANONYMOUS_KEY_CHARS / 2)]: 'y'.repeat(50_000) },
      b: [{ ['x'.repeat(MAX_ANONYMOUS_KEY_CHARS / 2)]: true }],
    });
    expect((await unwrap(spread)).body.errors[0]).toMatch(/length of object keys/);
    expect((await stat(audit)).size).toBe(before);
    // An authenticated caller may send them (KV takes keys of up to 256 characters).
    const many = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`${i}`.padStart(250, 'k'), 'v']),
    );
    const written = await s.request('POST', 'secret/data/long-keys', { body: { data: many } });
    expect(written.status).toBe(200);
    const read = await s.request('GET', 'secret/data/long-keys');
    expect(Object.keys(read.body.data.data)).toHaveLength(100);
  });

  it('counts values, never commas or brackets inside strings', async () => {
    const text = `${',[{'.repeat(MAX_JSON_VALUES)}\\"`;
    const written = await s.request('POST', 'secret/data/commas', {
      raw: JSON.stringify({ data: { text } }),
    });
    expect(written.status).toBe(200);
    expect((await s.request('GET', 'secret/data/commas')).body.data.data.text).toBe(text);
  });
});
