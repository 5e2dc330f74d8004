/**
 * Routes served under mounts of several segments (`teams/a/kv/`) are matched again by the
 * boundary (mount-routing.ts): every such route must be judged on its full path with the
 * capability Vault requires, and no spelling of a path may reach another mount's handler or a
 * handler the ACL did not judge.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { pathVariants, routeOracle, sendTarget } from '../../test/path-variants.js';
import { capabilityProbes, concretePath, vaultRoutes } from '../../test/routes.js';

const ALL = ['create', 'read', 'update', 'patch', 'delete', 'list'];

const NESTED = { kv: 'teams/a/kv', transit: 'teams/a/transit', approle: 'teams/a/approle' };

/**
 * Their twins in another case: mount paths are case-sensitive (as in Vault), so these are other
 * mounts, with their own data, that a spelling of the first ones in another case reaches.
 */
const NESTED_CASE = { kv: 'Teams/a/kv', transit: 'Teams/a/transit', approle: 'Teams/a/approle' };

async function enableNested(s: TestServer): Promise<void> {
  for (const [path, type] of [
    ['sys/mounts/teams/a/kv', 'kv-v2'],
    ['sys/mounts/teams/a/kv2', 'kv-v2'],
    ['sys/mounts/teams/a/transit', 'transit'],
    ['sys/auth/teams/a/approle', 'approle'],
    ['sys/mounts/Teams/a/kv', 'kv-v2'],
    ['sys/mounts/Teams/a/kv2', 'kv-v2'],
    ['sys/mounts/Teams/a/transit', 'transit'],
    ['sys/auth/Teams/a/approle', 'approle'],
  ] as const) {
    expect((await s.request('POST', path, { body: { type } })).status, path).toBe(204);
  }
}

/** The routes declared with `:mount` (KV version 2, transit, AppRole, the catch-alls). */
const mountedRoutes = (s: TestServer) =>
  vaultRoutes(s.server.app.routeTable).filter((r) => r.access.mount !== undefined);

describe.each(await storageKinds())(
  'authorisation under mounts of several segments on %s',
  (kind) => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
      await enableNested(s);
    });
    afterAll(async () => {
      await s.close();
    });

    it('refuses each request to a token granted every capability on its full path but the one it needs', async () => {
      const probes = capabilityProbes(mountedRoutes(s), NESTED);
      expect(probes.length).toBeGreaterThan(50);
      const failures: string[] = [];
      for (const [i, probe] of probes.entries()) {
        expect(probe.path.startsWith('teams/a/') || probe.path.startsWith('auth/teams/a/')).toBe(
          true,
        );
        const others = [...ALL, 'sudo'].filter((c) => c !== probe.needs);
        const name = `nested-all-but-${probe.needs}-${i}`;
        await s.policy(name, { [probe.aclPath]: others });
        const token = await s.token({ policies: [name], no_default_policy: true });
        const response = await send(s.url, probe.method, probe.path, {
          token,
          ...(probe.hasBody ? { body: {} } : {}),
        });
        if (response.status !== 403)
          failures.push(`${probe.method} ${probe.path} without ${probe.needs}: ${response.status}`);
      }
      expect(failures).toEqual([]);
    }, 120_000);

    it('admits reads and lists to a token granted only what they need on the full path', async () => {
      const reads = capabilityProbes(mountedRoutes(s), NESTED).filter(
        (p) => p.method === 'GET' || p.method === 'LIST',
      );
      const refused: string[] = [];
      for (const [i, probe] of reads.entries()) {
        const name = `nested-only-${probe.needs}-${i}`;
        await s.policy(name, { [probe.aclPath]: [probe.needs] });
        const token = await s.token({ policies: [name], no_default_policy: true });
        const response = await send(s.url, probe.method, probe.path, { token });
        if (response.status === 403) refused.push(`${probe.method} ${probe.path}`);
      }
      expect(refused).toEqual([]);
    }, 120_000);
  },
);

interface AuditLine {
  readonly type: string;
  readonly request?: { readonly path: string };
}

describe('path spellings under mounts of several segments', () => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  let auditOffset = 0;
  let denyCount = 0;
  const canary = `canary-${randomBytes(8).toString('hex')}`;
  /** What the twin in another case (`Teams/a/kv2/`) holds at the same key. */
  const twinCanary = `canary-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-nested-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer('sqlite', { audit: [{ type: 'file', path: auditFile }] });
    await enableNested(s);
    await s.request('POST', 'teams/a/kv2/data/other', { body: { data: { v: canary } } });
    await s.request('POST', 'Teams/a/kv2/data/other', { body: { data: { v: twinCanary } } });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The request paths the audit log gained since the last call. */
  const auditedPaths = async () => {
    const handle = await open(auditFile, 'r');
    let text: string;
    try {
      const { size } = await handle.stat();
      const { buffer, bytesRead } = await handle.read(
        Buffer.alloc(size - auditOffset),
        0,
        size - auditOffset,
        auditOffset,
      );
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    auditOffset += Buffer.byteLength(complete);
    return complete
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as AuditLine)
      .filter((e) => e.type === 'request')
      .map((e) => e.request?.path);
  };

  /** A token granted everything (with sudo) but `paths`, which it is denied. */
  async function denying(...paths: string[]): Promise<string> {
    const name = `nested-deny-${denyCount++}`;
    const denied = Object.fromEntries(paths.map((p) => [p, ['deny']]));
    await s.policy(name, { '*': [...ALL, 'sudo'], ...denied });
    return s.token({ policies: [name], no_default_policy: true });
  }

  it('no spelling of another mount’s path reaches it with a token for teams/a/kv/* only', async () => {
    await s.policy('kv-only', { 'teams/a/kv/*': [...ALL] });
    const token = await s.token({ policies: ['kv-only'], no_default_policy: true });
    const targets = [
      '/v1/teams/a/kv/../kv2/data/other',
      '/v1/teams/a/kv/%2e%2e/kv2/data/other',
      '/v1/teams/a/kv/..%2Fkv2/data/other',
      '/v1/teams/a/kv%2F..%2Fkv2/data/other',
      '/v1/teams/a/kv/./../kv2/data/other',
      '/v1/teams%2Fa%2Fkv2/data/other',
      '/v1/teams/a%2Fkv2/data/other',
      '/v1/teams//a/kv2/data/other',
      '/v1/teams/a//kv2/data/other',
      '/v1//teams/a/kv2/data/other',
      '/v1/teams/a/kv2/data/other/',
      '/v1/teams/a/kv2/data/other#',
      '/v1/teams/a/kv#/../kv2/data/other',
      '/v1/teams/a/kv2;/data/other',
      '/v1/teams/a/kv2%23/data/other',
      '/v1/teams/a/kv2/data/other?/../../kv/data/x',
      '/v1/teams/a/KV2/data/other',
      '/v1/Teams/a/kv2/data/other',
      '/v1/teams/A/kv2/data/other',
      // Unicode lookalikes: Cyrillic а, fullwidth ｋｖ, a combining mark.
      '/v1/teams/%D0%B0/kv2/data/other',
      '/v1/teams/a/%EF%BD%8B%EF%BD%962/data/other',
      '/v1/teams/a/kv2%CC%81/data/other',
      '/v1/teams/a/kv\\..\\kv2/data/other',
      // Another case, spelled or encoded: the twin at Teams/a/kv2/ (or no mount), never kv/.
      '/v1/%54eams/a/kv2/data/other',
      '/v1/%54eams/a/kv/../kv2/data/other',
      '/v1/Teams/a/kv/data/../../kv2/data/other',
      '/v1/teams/a/%4Bv2/data/other',
      '/v1/teams/a/%4bV2/data/other',
      // Unicode letters a case folding maps onto ASCII ones: ſ (S), the Kelvin sign (k).
      '/v1/team%C5%BF/a/kv2/data/other',
      '/v1/Team%C5%BF/a/kv2/data/other',
      '/v1/teams/a/%E2%84%AAv2/data/other',
      '/v1/teams/a/%E2%84%AAv/data/other',
      '/v1/teams/a/kv2/data/Other',
      '/v1/Teams/a/kv2/data/other/',
      '/v1/Teams//a/kv2/data/other',
      '/v1/Teams/a/kv2/data/other#',
      '/v1/Teams/a/kv2/data/other%23',
      '/v1/Teams/a/kv2/data/other?x=/../../../teams/a/kv/data/x',
      '/v1/Teams%2Fa%2Fkv2/data/other',
    ];
    const failures: string[] = [];
    for (const target of targets) {
      const response = await sendTarget(s.url, 'GET', target, { token });
      if (
        response.text.includes(canary) ||
        response.text.includes(twinCanary) ||
        ![400, 403, 404].includes(response.status)
      )
        failures.push(`${target}: ${response.status} ${response.text.slice(0, 100)}`);
    }
    expect(failures).toEqual([]);
    // The canonical path is refused too, and the token reads its own mount.
    expect((await send(s.url, 'GET', 'teams/a/kv2/data/other', { token })).status).toBe(403);
    await s.request('POST', 'teams/a/kv/data/mine', { body: { data: { v: 1 } } });
    expect((await send(s.url, 'GET', 'teams/a/kv/data/mine', { token })).status).toBe(200);
  });

  it('an encoded slash in the mount’s segments never shifts the key the handler serves', async () => {
    const secret = `canary-${randomBytes(8).toString('hex')}`;
    await s.request('POST', 'teams/a/kv/data/secret', { body: { data: { v: secret } } });
    const token = await denying('teams/a/kv/data/secret');
    expect((await send(s.url, 'GET', 'teams/a/kv/data/secret', { token })).status).toBe(403);
    // Each is judged as teams/a/kv/data/data/secret (granted); read one segment short, it
    // would serve teams/a/kv/data/secret (denied).
    for (const target of [
      '/v1/teams/a%2Fkv/data/data/secret',
      '/v1/teams%2Fa/kv/data/data/secret',
      '/v1/teams%2fa%2fkv/data/data/secret',
      '/v1/teams/a/kv%2Fdata/data/secret',
    ]) {
      const response = await sendTarget(s.url, 'GET', target, { token });
      expect(response.status, target).toBe(400);
      expect(response.text, target).not.toContain(secret);
    }
  });

  it.each([
    ['lower case', NESTED],
    ['mixed case, beside their lower-case twins', NESTED_CASE],
  ])(
    'every spelling of every route under them (%s) is refused (400), unrouted (404), or judged, audited and served as one path',
    async (_label, mounts) => {
      const table = mountedRoutes(s);
      const served = routeOracle(vaultRoutes(s.server.app.routeTable));
      const urls = [...new Set(table.map((r) => r.url))];
      const cases = table.flatMap((route) =>
        pathVariants(concretePath(route.url, `v/${urls.indexOf(route.url)}`, mounts)).map(
          (variant) => ({ route, ...variant, outcome: served(route.method, variant.target) }),
        ),
      );
      // One token denied everything under the walked mounts and their twins in another case (the
      // audit shows the path judged); a path outside them (another case of a segment no twin
      // has, say) gets a token denied exactly that path.
      const underMounts = await denying(
        'teams/a/*',
        'auth/teams/a/*',
        'Teams/a/*',
        'auth/Teams/a/*',
      );
      const tokens = new Map<string, string>();
      for (const { outcome } of cases)
        if (outcome.kind === 'path' && !tokens.has(outcome.path))
          tokens.set(
            outcome.path,
            /^(auth\/)?[Tt]eams\/a\//.test(outcome.path)
              ? underMounts
              : await denying(outcome.path),
          );
      const everything = await denying('nothing/at/all');
      const failures: string[] = [];
      let denials = 0;
      for (const { route, label, target, outcome } of cases) {
        const hasBody = !['GET', 'HEAD', 'DELETE'].includes(route.method);
        const token = outcome.kind === 'path' ? (tokens.get(outcome.path) as string) : everything;
        await auditedPaths();
        const response = await sendTarget(s.url, route.method, target, {
          token,
          ...(hasBody ? { body: {} } : {}),
        });
        const audited = await auditedPaths();
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
          // AppRole's login needs no token: refused for its empty body instead.
          if (response.status !== 400 && response.status !== 403)
            failures.push(`${what}: ${outcome.path} is denied, got ${got}`);
          if (response.status === 403) denials++;
        }
      }
      expect(failures).toEqual([]);
      expect(denials).toBeGreaterThan(table.length);
    },
    600_000,
  );
});
