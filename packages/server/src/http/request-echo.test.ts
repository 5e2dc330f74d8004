import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestResponse, type TestServer } from '../../test/harness.js';
import { concretePath } from '../../test/routes.js';

/**
 * Error texts name what is wrong, never the value sent: responses reach the audit log as they
 * are (only data is HMAC'd), so an echoed value would put a secret there in the clear. This
 * walks every route of docs/server-api.md and sends, in every field its row documents (and
 * the common ones below), values of the wrong type or outside the field's choices carrying a
 * canary; the canary must appear in no error response, in no audit entry and in no log line,
 * and nothing may fail as a 500.
 */
const CANARY = 'canary-echo-7f3a9c1e';
const CANARY_NUMBER = 73_619_284_517;

/** Values that are wrong for almost every field, each carrying the canary where it can. */
const WRONG_VALUES: readonly unknown[] = [
  CANARY,
  CANARY_NUMBER,
  { nested: CANARY },
  [CANARY],
  // A name of Object.prototype's machinery: a lookup table must not find it.
  'constructor',
];

/** Fields read by the routes of a group without being listed in every row. */
const COMMON_FIELDS: Readonly<Record<string, readonly string[]>> = {
  transit: ['name', 'algorithm', 'hash_algorithm', 'marshaling_algorithm', 'bits', 'format'],
  auth: ['token', 'accessor', 'increment', 'meta', 'metadata', 'role_id', 'secret_id', 'id'],
  secret: ['data', 'options', 'cas', 'version', 'versions', 'custom_metadata'],
  sys: ['paths', 'key', 'input', 'policy'],
};

/** What a transit batch item carries (each checked inside `batch_input` too). */
const ITEM_FIELDS = [
  'plaintext',
  'ciphertext',
  'input',
  'hmac',
  'signature',
  'context',
  'associated_data',
  'nonce',
  'reference',
  'key_version',
];

/**
 * Requests that would end the test server's usefulness (or only change its keys and files), and fields whose value is legitimately
 * written to the audit log as it is: policy names (as Vault does) and capabilities-self paths
 * (they are the keys of its answer).
 */
const SKIPPED_ROUTES = new Set([
  'POST /v1/sys/seal',
  'POST /v1/sys/rotate',
  'POST /v1/sys/audit/new-file/:sink',
  'POST /v1/auth/token/revoke-self',
]);
const VERBATIM_IN_AUDIT = new Set([
  'POST /v1/auth/token/create policies',
  'POST /v1/auth/token/create display_name',
  'POST /v1/sys/capabilities-self paths',
  'POST /v1/sys/capabilities-self path',
]);

interface DocumentedRoute {
  readonly method: string;
  readonly url: string;
  readonly fields: string[];
}

async function documentedRoutes(): Promise<DocumentedRoute[]> {
  const doc = await readFile(new URL('../../../../docs/server-api.md', import.meta.url), 'utf8');
  return [...doc.matchAll(/^\| `(GET|POST|PATCH|DELETE) (\/v1\/[^`]+)` \|(.*)\|\s*$/gm)].map(
    ([, method, url, description]) => ({
      method: method as string,
      url: url as string,
      fields: [
        ...new Set([
          ...[...(description as string).matchAll(/`([a-z][a-z0-9_]*)`/g)].map(
            (m) => m[1] as string,
          ),
          ...(COMMON_FIELDS[(url as string).split('/')[2] as string] ?? []),
          ...((url as string).startsWith('/v1/transit/') ? ITEM_FIELDS : []),
        ]),
      ],
    }),
  );
}

describe('request values never come back in error texts, the audit log or the server log', () => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  const logs: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-echo-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer('sqlite', {
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
      logLevel: 'debug',
      logDestination: { write: (line: string) => logs.push(line) },
    });
    // What the routes' parameters name (test/routes.ts): so requests reach their field checks.
    await s.request('POST', 'transit/keys/some-name', {
      body: { exportable: true, allow_plaintext_backup: true },
    });
    await s.request('POST', 'transit/keys/sig-name', { body: { type: 'ecdsa-p256' } });
    await s.request('POST', 'auth/approle/role/some-name', {
      body: { token_policies: ['default'] },
    });
    await s.request('POST', 'secret/data/some/key', { body: { data: { a: 'b' } } });
    await s.request('POST', 'sys/policies/acl/some-name', {
      body: { policy: 'path "secret/*" { capabilities = ["read"] }' },
    });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds for every documented field of every route, in the body, a batch item and the query', {
    timeout: 600_000,
  }, async () => {
    const routes = (await documentedRoutes()).filter(
      (r) => !SKIPPED_ROUTES.has(`${r.method} ${r.url}`),
    );
    expect(routes.length).toBeGreaterThan(70);
    const problems: string[] = [];
    const check = (what: string, response: TestResponse, echoedByDesign: boolean) => {
      if (response.status >= 500) problems.push(`${what}: ${response.status} ${response.text}`);
      if (response.status >= 400 && !echoedByDesign && echoes(errorTextOf(response)))
        problems.push(`${what}: ${response.text}`);
    };
    let sent = 0;
    for (const route of routes) {
      // Signing routes are walked with an ECDSA key too, so hash and marshaling checks run.
      const keys = /\/v1\/transit\/(sign|verify|export)/.test(route.url)
        ? ['some-name', 'sig-name']
        : ['some-name'];
      const requests: Promise<void>[] = [];
      const run = (what: string, field: string, response: Promise<TestResponse>) => {
        sent++;
        // A batch item's `reference` is handed back with its result, as Vault does (it is data:
        // HMAC'd in the audit log like the rest).
        requests.push(response.then((r) => check(what, r, field === 'reference')));
      };
      for (const key of keys) {
        const path = concretePath(route.url).replace('some-name', key);
        for (const field of route.fields) {
          if (VERBATIM_IN_AUDIT.has(`${route.method} ${route.url} ${field}`)) continue;
          for (const value of WRONG_VALUES) {
            const what = `${route.method} ${path} ${field}=${JSON.stringify(value)}`;
            if (route.method === 'GET') {
              if (typeof value === 'string')
                run(what, field, s.request('GET', `${path}?${field}=${encodeURIComponent(value)}`));
              continue;
            }
            run(what, field, s.request(route.method, path, { body: { [field]: value } }));
            if (route.url.startsWith('/v1/transit/') && ITEM_FIELDS.includes(field))
              run(
                `${what} (batch item)`,
                field,
                s.request(route.method, path, { body: { batch_input: [{ [field]: value }] } }),
              );
          }
        }
      }
      // One route at a time (its requests at once): routes that change state stay ordered.
      await Promise.all(requests);
    }
    expect(sent).toBeGreaterThan(2000);
    expect(problems).toEqual([]);

    // The audit log holds every one of those requests and answers, values HMAC'd.
    const audit = await readFile(auditFile, 'utf8');
    expect(audit.split('\n').length).toBeGreaterThan(sent);
    expect(echoes(audit)).toBe(false);
    expect(logs.filter(echoes).slice(0, 5)).toEqual([]);
  });

  it('holds for values inside strings the server parses: a policy document, a backup, a meta map', async () => {
    const policy = (document: unknown) =>
      s.request('POST', 'sys/policies/acl/echo', { body: { policy: JSON.stringify(document) } });
    const hclPolicy = (text: string) =>
      s.request('POST', 'sys/policies/acl/echo', { body: { policy: text } });
    const backup = (blob: unknown) =>
      s.request('POST', 'transit/restore/echo-restored', {
        body: { backup: Buffer.from(JSON.stringify(blob)).toString('base64') },
      });
    const good = JSON.parse(
      Buffer.from(
        (await s.request('GET', 'transit/backup/some-name')).body.data.backup,
        'base64',
      ).toString(),
    );
    const refusals = [
      await policy({ path: { [`${CANARY}/*`]: { capabilities: [CANARY] } } }),
      await policy({ path: { [`/${CANARY}`]: { capabilities: ['read'] } } }),
      await policy({ path: { [`a*${CANARY}`]: { capabilities: ['read'] } } }),
      await policy({ path: { [`a+${CANARY}`]: { capabilities: ['read'] } } }),
      await policy({ path: { [CANARY]: { capabilities: ['read'], [CANARY]: 1 } } }),
      await policy({ path: { [CANARY]: CANARY } }),
      await policy({
        path: { a: { capabilities: ['read'], allowed_parameters: { [CANARY]: 1 } } },
      }),
      await policy({
        path: { a: { capabilities: ['read'], required_parameters: [CANARY_NUMBER] } },
      }),
      await policy({ path: { a: { policy: CANARY } } }),
      await hclPolicy(`path "${CANARY}" {\n  capabilities = ["${CANARY}"\n}`),
      await hclPolicy(`path "${CANARY}" {\n  capabilities = ["read"]\n  ${CANARY} = 1\n}`),
      await hclPolicy(`path "${CANARY}" {\n  capabilities = [${CANARY}]\n}`),
      await hclPolicy(
        `path "${CANARY}" {\n  capabilities = ["read"]\n  allowed_parameters = { "${CANARY}" = "${CANARY}" }\n}`,
      ),
      await hclPolicy(`${CANARY} "${CANARY}" { }`),
      await hclPolicy(`path "${CANARY}" { capabilities = ["read"] \u0001 }`),
      await backup({ ...good, [CANARY]: CANARY }),
      await backup({ ...good, policy: { ...good.policy, type: CANARY, [CANARY]: 1 } }),
      await backup({ ...good, policy: { ...good.policy, latest_version: CANARY_NUMBER } }),
      await backup({ ...good, versions: [{ ...good.versions[0], key: CANARY }] }),
      await s.request('POST', 'auth/token/create', {
        body: { meta: JSON.stringify({ [CANARY]: CANARY_NUMBER }) },
      }),
      await s.request('POST', 'transit/keys/some-name', {
        body: { auto_rotate_period: CANARY_NUMBER, rotate_after_encryptions: CANARY_NUMBER },
      }),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(400);
      expect(refusal.body.errors).toEqual([expect.any(String)]);
      expect(echoes(refusal.text), refusal.text).toBe(false);
    }
    expect(echoes(await readFile(auditFile, 'utf8'))).toBe(false);
  });

  it('the canaries are found where they are legitimately data (so the checks above can fail)', async () => {
    const echoed = await send(s.url, 'POST', 'transit/encrypt/some-name', {
      token: s.rootToken,
      body: { batch_input: [{ plaintext: 'eA==', reference: CANARY }] },
    });
    expect(echoes(echoed.text)).toBe(true);
    expect(echoes(JSON.stringify({ n: CANARY_NUMBER }))).toBe(true);
  });
});

/**
 * What of an error answer could echo the request: all of it, except the stored metadata of
 * KV's 404 for a deleted or destroyed version (Vault's answer carries it; an earlier request
 * of this walk may have stored a canary in `custom_metadata`, legitimately, as data).
 */
function errorTextOf(response: TestResponse): string {
  const body = response.body as { data?: { metadata?: unknown } } | undefined;
  if (response.status !== 404 || body?.data?.metadata === undefined) return response.text;
  return JSON.stringify({ ...body, data: { ...body.data, metadata: undefined } });
}

function echoes(text: string): boolean {
  return text.includes(CANARY) || text.includes(String(CANARY_NUMBER));
}
