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
import { startTestServer, type TestServer } from '../test-harness.js';
import { pathVariants, routeOracle, sendTarget } from './test-path-variants.js';
import { concretePath } from './test-routes.js';

const ALL = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo'];

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

  it('every spelling of every route is refused (400), unrouted (404), or judged, audited and served as one path', async () => {
    const table = s.server.app.routeTable;
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
