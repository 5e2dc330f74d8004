/**
 * The ACL must judge exactly the path the handler serves, and the audit log must record it:
 * every route, under every spelling of its path that a router may read differently.
 *
 * The walk runs on SQLite only: it attacks the HTTP edge, which reads the path before any
 * storage is touched; authorisation on both storages is walked in authorization.test.ts.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { pathVariants, routeOracle, sendTarget } from '../../test/path-variants.js';
import { concretePath, vaultRoutes } from '../../test/routes.js';

const ALL = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo'];

/**
 * Mounts whose names are case-sensitive, as stored: `Key` and `key` are two KV keys, two
 * transit keys, two AppRole roles (checked below); audit sink names come from the server's
 * configuration. Mount paths are case-sensitive too (`Team/` and `team/` are two mounts, as in
 * Vault: under `sys/mounts/`, `sys/auth/`, and the routes served by mount, {@link MOUNTED}). Every other name (policies, token roles…) has one spelling, and any
 * other is refused.
 */
const CASE_SENSITIVE = [
  'secret/',
  'transit/',
  'auth/approle/',
  'sys/audit/new-file/',
  // Audit device names are case-sensitive (looked up exactly): another case is another device.
  'sys/audit-entries/',
  'sys/audit-verify/',
  // A mount path named in another case: another mount's path.
  'sys/mounts/',
  'sys/auth/',
  'sys/internal/ui/mounts/',
];

/** The routes served by mount: another case of `:mount` is another mount (or none). */
const MOUNTED = /^\/v1\/(auth\/)?:mount\//;

interface AuditLine {
  readonly type: string;
  readonly request?: { readonly path: string };
}

/** Reads what the audit log gained since the last call (whole lines only). */
function auditTail(file: string): () => Promise<AuditLine[]> {
  let offset = 0;
  return async () => {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const { buffer, bytesRead } = await handle.read(
        Buffer.alloc(size - offset),
        0,
        size - offset,
        offset,
      );
      const text = buffer.subarray(0, bytesRead).toString('utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      offset += Buffer.byteLength(complete);
      return complete
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as AuditLine);
    } finally {
      await handle.close();
    }
  };
}

describe('path spellings: the ACL and the audit log judge the path the router serves', () => {
  let s: TestServer;
  let dir: string;
  let newAuditEntries: () => Promise<AuditLine[]>;
  let denyCount = 0;
  let everything: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-paths-'));
    const file = join(dir, 'audit.log');
    s = await startTestServer('sqlite', { audit: [{ type: 'file', path: file }] });
    newAuditEntries = auditTail(file);
    await s.policy('everything', { '*': ALL });
    everything = await s.token({ policies: ['everything'], no_default_policy: true });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A token granted everything (with sudo) but `paths`, which it is denied. */
  async function denying(...paths: string[]): Promise<string> {
    const name = `deny-only-${denyCount++}`;
    const rules = { '*': ALL, ...Object.fromEntries(paths.map((p) => [p, ['deny']])) };
    expect((await s.policy(name, rules)).status).toBe(204);
    return s.token({ policies: [name], no_default_policy: true });
  }

  it("refuses the review's exploits: a deny under a glob, a + escaping its segment, a sudo deny", async () => {
    await s.request('POST', 'secret/data/admin-creds', { body: { data: { v: 1 } } });
    const denied = await denying('secret/data/admin-creds');
    for (const method of ['GET', 'POST']) {
      const response = await sendTarget(s.url, method, '/v1/secret/data/admin-creds#', {
        token: denied,
        ...(method === 'POST' ? { body: { data: { v: 2 } } } : {}),
      });
      expect(response.status).toBe(400);
    }
    const stored = await s.request('GET', 'secret/data/admin-creds');
    expect(stored.body.data.metadata.version).toBe(1);

    await s.policy('shared-only', { 'secret/data/+/shared': ['read'] });
    const shared = await s.token({ policies: ['shared-only'], no_default_policy: true });
    await s.request('POST', 'secret/data/private', { body: { data: { v: 1 } } });
    expect(
      (await sendTarget(s.url, 'GET', '/v1/secret/data/private#/shared', { token: shared })).status,
    ).toBe(400);
    expect(
      (await sendTarget(s.url, 'GET', '/v1/secret/data/private', { token: shared })).status,
    ).toBe(403);

    const noSeal = await denying('sys/seal');
    const seal = await sendTarget(s.url, 'POST', '/v1/sys/seal#x', { token: noSeal, body: {} });
    expect(seal).toMatchObject({ status: 400 });
    expect(JSON.parse(seal.text)).toEqual({
      errors: ["'#' is not allowed in a request (encode it as %23 if it is part of a name)"],
    });
    expect((await s.request('GET', 'sys/seal-status')).body.sealed).toBe(false);
  });

  it('a token denied the default policy cannot rewrite it as Default (policy names are not lower-cased after the ACL)', async () => {
    const token = await denying('sys/policies/acl/default', 'sys/policy/default');
    const escalate = JSON.stringify({ path: { '*': { capabilities: ALL } } });
    const before = (await s.request('GET', 'sys/policies/acl/default')).body.data.policy;
    for (const base of ['sys/policies/acl', 'sys/policy']) {
      for (const name of ['Default', 'DEFAULT', 'defaulT']) {
        const write = await s.request('POST', `${base}/${name}`, {
          token,
          body: { policy: escalate },
        });
        expect(write.status, `${base}/${name}`).toBe(400);
        expect(write.body.errors[0]).toMatch(/lowercase/);
        expect((await s.request('DELETE', `${base}/${name}`, { token })).status).toBe(400);
      }
    }
    expect((await s.request('GET', 'sys/policies/acl/default')).body.data.policy).toBe(before);
  });

  it('a name in another case is refused under a deny on its canonical path, or is another name judged as such', async () => {
    const table = vaultRoutes(s.server.app.routeTable);
    const served = routeOracle(table);
    const failures: string[] = [];
    let refusals = 0;
    for (const route of table.filter((r) => /[:*]/.test(r.url))) {
      const canonical = concretePath(route.url);
      const token = await denying(canonical);
      const spell = (change: (value: string) => string) =>
        route.url
          .replace(/^\/v1\//, '')
          .replace(/:[a-z_]+|\*/g, (param) => change(concretePath(param)));
      const variants = new Set([
        spell((v) => v.toUpperCase()),
        spell((v) => v.charAt(0).toUpperCase() + v.slice(1)),
        spell((v) => v.slice(0, -1) + v.slice(-1).toUpperCase()),
      ]);
      variants.delete(canonical);
      for (const variant of variants) {
        const hasBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
        await newAuditEntries();
        const response = await sendTarget(s.url, route.method, `/v1/${variant}`, {
          token,
          ...(hasBody ? { body: {} } : {}),
        });
        const audited = (await newAuditEntries())
          .filter((e) => e.type === 'request')
          .map((e) => e.request?.path);
        const what = `${route.method} ${variant} (deny on ${canonical}): ${response.status} ${response.text.slice(0, 80)}, audited as ${JSON.stringify(audited)}`;
        if (audited.some((p) => p !== variant)) failures.push(`${what}: judged as another path`);
        if (CASE_SENSITIVE.some((mount) => variant.startsWith(mount)) || MOUNTED.test(route.url)) {
          // Another name: the deny on the canonical one does not apply, and need not.
          const outcome = served(route.method, `/v1/${variant}`);
          if (outcome.kind !== 'path' || outcome.path !== variant)
            failures.push(`${what}: not served as itself`);
        } else if (response.status === 400 || response.status === 403) {
          refusals++;
        } else {
          failures.push(`${what}: want 400 or 403`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(refusals).toBeGreaterThan(10);
  }, 120_000);

  it('KV keys, transit key names and AppRole role names are case-sensitive: another case is another name', async () => {
    await s.request('POST', 'secret/data/case/key', { body: { data: { v: 1 } } });
    await s.request('POST', 'transit/keys/casekey', { body: {} });
    await s.request('POST', 'auth/approle/role/caserole', { body: {} });
    expect((await s.request('GET', 'secret/data/case/key')).status).toBe(200);
    expect((await s.request('GET', 'transit/keys/casekey')).status).toBe(200);
    expect((await s.request('GET', 'auth/approle/role/caserole')).status).toBe(200);
    for (const path of [
      'secret/data/case/KEY',
      'transit/keys/CaseKey',
      'auth/approle/role/CASEROLE',
    ]) {
      expect((await s.request('GET', path)).status, path).toBe(404);
    }
  });

  it('every spelling of every route is refused (400), unrouted (404), or judged, audited and served as one path', async () => {
    const table = vaultRoutes(s.server.app.routeTable);
    const served = routeOracle(table);
    const urls = [...new Set(table.map((r) => r.url))];
    const cases = table.flatMap((route) =>
      pathVariants(concretePath(route.url, `v/${urls.indexOf(route.url)}`)).map((variant) => ({
        route,
        ...variant,
        outcome: served(route.method, variant.target),
      })),
    );
    // Tokens first: a request that slips through (sys/seal) must not stop the walk's set-up.
    const tokens = new Map<string, string>();
    for (const { outcome } of cases)
      if (outcome.kind === 'path' && !tokens.has(outcome.path))
        tokens.set(outcome.path, await denying(outcome.path));
    const failures: string[] = [];
    let denials = 0;
    for (const { route, label, target, outcome } of cases) {
      const hasBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
      const token = outcome.kind === 'path' ? (tokens.get(outcome.path) as string) : everything;
      await newAuditEntries();
      const response = await sendTarget(s.url, route.method, target, {
        token,
        ...(hasBody ? { body: {} } : {}),
      });
      const audited = (await newAuditEntries())
        .filter((e) => e.type === 'request')
        .map((e) => e.request?.path);
      const what = `${route.method} ${target} (${label}, ${route.url})`;
      const got = `${response.status} ${response.text.slice(0, 100)}, audited as ${JSON.stringify(audited)}`;
      if (target.includes('#') || outcome.kind === 'ambiguous') {
        if (response.status !== 400) failures.push(`${what}: want 400, got ${got}`);
      } else if (outcome.kind === 'none') {
        if (response.status !== 400 && response.status !== 404)
          failures.push(`${what}: unrouted, want 400 or 404, got ${got}`);
      } else {
        if (audited.some((p) => p !== outcome.path))
          failures.push(`${what}: served as ${outcome.path}, got ${got}`);
        const refused = response.status === 400 || response.status === 403;
        if (!outcome.route.access.unauthenticated && !refused)
          failures.push(`${what}: ${outcome.path} is denied, got ${got}`);
        if (response.status >= 500) failures.push(`${what}: got ${got}`);
        if (response.status === 403) denials++;
      }
    }
    expect(failures).toEqual([]);
    // The walk reached the ACL (not everything was refused as malformed).
    expect(denials).toBeGreaterThan(table.length);
  }, 600_000);
});
