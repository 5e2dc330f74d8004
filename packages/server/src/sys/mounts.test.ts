import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

/** A value no test writes twice, so a read of the wrong mount is unmistakable. */
const canaryValue = () => `case-canary-${randomBytes(8).toString('hex')}`;

const V2_HINT = /^Invalid path for a versioned K\/V secrets engine\. .*'vault kv (get|put|list)'/;

describe.each(await storageKinds())('sys/mounts on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  const enable = (path: string, body: Record<string, unknown>) =>
    s.request('POST', `sys/mounts/${path}`, { body });
  const disable = (path: string) => s.request('DELETE', `sys/mounts/${path}`);
  const storedUnder = async (path: string) => {
    const uuid = (await s.request('GET', `sys/mounts/${path}`)).body.data.uuid as string;
    return s.server.context.barrier.listPaths(`mount/${uuid}/`);
  };

  it('starts with secret/ (KV version 2), transit/, cubbyhole/ and sys/', async () => {
    const listed = await s.request('GET', 'sys/mounts');
    expect(listed.status).toBe(200);
    expect(Object.keys(listed.body.data).sort()).toEqual([
      'cubbyhole/',
      'secret/',
      'sys/',
      'transit/',
    ]);
    expect(listed.body.data['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(listed.body.data['secret/'].uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('enables KV version 1 at a path, served as Vault serves it (no versions, lease, list, delete)', async () => {
    expect((await enable('kv1', { type: 'kv', options: { version: 1 } })).status).toBe(204);
    const value = randomBytes(8).toString('hex');
    expect(
      (await s.request('POST', 'kv1/app/db', { body: { password: value, ttl: '1h' } })).status,
    ).toBe(204);
    // A key whose first segment names a KV version 2 route is a plain key here.
    expect((await s.request('PUT', 'kv1/data/x', { body: { a: '1' } })).status).toBe(204);
    const read = await s.request('GET', 'kv1/app/db');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      data: { password: value, ttl: '1h' },
      lease_duration: 768 * 3600,
    });
    expect((await s.request('GET', 'kv1/data/x')).body.data).toEqual({ a: '1' });
    expect((await s.request('LIST', 'kv1/')).body.data.keys).toEqual(['app/', 'data/']);
    expect((await s.request('GET', 'kv1/app?list=true')).body.data.keys).toEqual(['db']);
    expect((await s.request('DELETE', 'kv1/app/db')).status).toBe(204);
    expect(await s.request('GET', 'kv1/app/db')).toMatchObject({
      status: 404,
      body: { errors: [] },
    });
    expect((await s.request('LIST', 'kv1/app/')).status).toBe(404);
    expect((await s.request('POST', 'kv1/empty', { body: {} })).status).toBe(400);
    expect((await s.request('GET', 'sys/mounts/kv1')).body.data).toMatchObject({
      type: 'kv',
      options: { version: '1' },
    });
  });

  it('enables KV version 2 at a path (type kv-v2), with every KV v2 route', async () => {
    expect((await enable('kv2', { type: 'kv-v2', description: 'team' })).status).toBe(204);
    expect(
      (await s.request('POST', 'kv2/data/a', { body: { data: { x: '1' } } })).body.data.version,
    ).toBe(1);
    expect((await s.request('GET', 'kv2/data/a')).body.data.data).toEqual({ x: '1' });
    expect((await s.request('LIST', 'kv2/metadata/')).body.data.keys).toEqual(['a']);
    expect((await s.request('GET', 'kv2/config')).status).toBe(200);
    // secret/ keeps its own data: the mounts do not share storage.
    expect((await s.request('GET', 'secret/data/a')).status).toBe(404);
  });

  it('answers a version 1 path on a KV version 2 mount with Vault hint (404)', async () => {
    for (const [method, path] of [
      ['GET', 'kv2/a'],
      ['POST', 'secret/a'],
      ['LIST', 'secret/'],
    ] as const) {
      const response = await s.request(method, path, method === 'POST' ? { body: { x: '1' } } : {});
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.warnings[0], `${method} ${path}`).toMatch(V2_HINT);
    }
  });

  it('answers 404 no handler for a path under no mount, and unsupported path under transit/', async () => {
    expect(await s.request('GET', 'nowhere/a')).toMatchObject({
      status: 404,
      body: { errors: ['no handler for route "nowhere/a". route entry not found.'] },
    });
    expect((await s.request('GET', 'transit/unknown')).status).toBe(404);
  });

  it('judges a mount by the policy on its real path', async () => {
    await s.request('POST', 'kv1/team/a', { body: { v: '1' } });
    await s.policy('kv1-reader', { 'kv1/team/*': ['read'] });
    const token = await s.token({ policies: ['kv1-reader'] });
    expect((await send(s.url, 'GET', 'kv1/team/a', { token })).status).toBe(200);
    expect((await send(s.url, 'POST', 'kv1/team/a', { token, body: { v: '2' } })).status).toBe(403);
    expect((await send(s.url, 'GET', 'kv2/data/a', { token })).status).toBe(403);
    // A write of a missing key is judged as create.
    await s.policy('kv1-creator', { 'kv1/new/*': ['create'] });
    const creator = await s.token({ policies: ['kv1-creator'] });
    expect(
      (await send(s.url, 'POST', 'kv1/new/a', { token: creator, body: { v: '1' } })).status,
    ).toBe(204);
    expect(
      (await send(s.url, 'POST', 'kv1/new/a', { token: creator, body: { v: '2' } })).status,
    ).toBe(403);
  });

  it('refuses mount paths Vault refuses, and every spelling custos does not route, naming why', async () => {
    const cases: [string, RegExp | number][] = [
      ['secret/a', /path is already in use at secret\//],
      ['kv1', /path is already in use at kv1\//],
      ['kv1/', /path is already in use at kv1\//],
      ['sys', /reserved/],
      ['auth', /reserved/],
      ['cubbyhole', /reserved/],
      ['identity', /reserved/],
      ['aws', /reserved/],
      ['secret/a/b', /path is already in use at secret\//],
      ['sys/x', /reserved/],
      ['auth/x/y', /reserved/],
      ['cubbyhole/a/b', /reserved/],
      // Reserved in any case.
      ['SYS', /reserved/],
      ['Sys/x', /reserved/],
      ['AUTH/x', /reserved/],
      ['Cubbyhole', /reserved/],
      ['IdEntity/a', /reserved/],
      ['AWS', /reserved/],
      ['a//b', 400],
      ['a/.../b', /ASCII letters/],
      ['a/b/c/d/e/f/g/h/i', /at most 8 segments/],
      ['a%20b', /ASCII letters/],
      ['a..b', /ASCII letters/],
      ['-lead', /ASCII letters/],
      ['a%2F..%2Fb', 400],
      ['a%23b', /ASCII letters/],
      // Unicode letters that fold onto ASCII ones (ſ → S, the Kelvin sign → k).
      ['%C5%BFys', /ASCII letters/],
      ['%E2%84%AAv1', /ASCII letters/],
    ];
    for (const [path, expected] of cases) {
      const response = await enable(path, { type: 'kv' });
      expect(response.status, path).toBe(400);
      if (expected instanceof RegExp) expect(response.body.errors[0], path).toMatch(expected);
    }
    expect((await enable('engine', { type: 'cubbyhole' })).status).toBe(400);
    expect((await enable('engine', { type: 'nope' })).body.errors[0]).toMatch(/unknown/);
    expect((await enable('engine', { type: 'kv', options: { version: '3' } })).status).toBe(400);
    expect((await enable('engine', { type: 'kv', options: { version: [2] } })).status).toBe(400);
    expect((await enable('engine', { type: 'kv', options: 'v2' })).status).toBe(400);
    const listed = Object.keys((await s.request('GET', 'sys/mounts')).body.data);
    expect(
      listed.filter((p) => !['cubbyhole/', 'secret/', 'sys/', 'transit/'].includes(p)).sort(),
    ).toEqual(['kv1/', 'kv2/']);
  });

  it('refuses to disable or move the mounts served at their own path only', async () => {
    for (const path of ['sys', 'cubbyhole', 'transit']) {
      expect((await disable(path)).status, path).toBe(400);
    }
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'transit', to: 'other' } })).status,
    ).toBe(400);
  });

  it('disables a mount with all its data: one enabled again at the path starts empty', async () => {
    await enable('gone', { type: 'kv', options: { version: '1' } });
    await s.request('POST', 'gone/a', { body: { v: '1' } });
    const before = await storedUnder('gone');
    expect(before.length).toBeGreaterThan(0);
    const uuid = (await s.request('GET', 'sys/mounts/gone')).body.data.uuid as string;
    expect((await disable('gone')).status).toBe(204);
    expect(await s.server.context.barrier.listPaths(`mount/${uuid}/`)).toEqual([]);
    expect((await s.request('GET', 'gone/a')).status).toBe(404);
    expect((await s.request('GET', 'gone/a')).body.errors[0]).toMatch(/no handler/);
    await enable('gone', { type: 'kv', options: { version: '1' } });
    expect((await s.request('GET', 'gone/a')).status).toBe(404);
    expect((await s.request('LIST', 'gone/')).status).toBe(404);
    // Disabling what is not mounted succeeds, as in Vault.
    expect((await disable('never')).status).toBe(204);
    // The mounts the server's own APIs store in stay where they are (the Secrets Manager API
    // writes to secret/ and is judged on its paths), in every spelling of their path.
    for (const path of ['secret', 'secret/', 'transit', 'cubbyhole/', 'sys']) {
      expect((await disable(path)).status).toBe(400);
      const moved = await s.request('POST', 'sys/remount', {
        body: { from: path, to: 'elsewhere' },
      });
      expect(moved.status).toBe(400);
    }
    expect((await s.request('GET', 'sys/mounts/secret')).status).toBe(200);
  });

  it('remounts: the data moves with the mount, the old path serves nothing', async () => {
    await enable('moving', { type: 'kv-v2' });
    await s.request('POST', 'moving/data/k', { body: { data: { v: 'kept' } } });
    const moved = await s.request('POST', 'sys/remount', {
      body: { from: 'moving', to: 'moved/' },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.data.migration_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await s.request('GET', 'moved/data/k')).body.data.data).toEqual({ v: 'kept' });
    expect((await s.request('GET', 'moving/data/k')).status).toBe(404);
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'moved', to: 'secret/x' } })).status,
    ).toBe(400);
    const token = await s.token({ policies: ['default'] });
    expect(
      (await send(s.url, 'POST', 'sys/remount', { token, body: { from: 'moved', to: 'm2' } }))
        .status,
    ).toBe(403);
  });

  it('tunes a mount: description and lease settings; the KV version cannot change', async () => {
    expect((await s.request('GET', 'sys/mounts/kv1/tune')).body.data).toMatchObject({
      default_lease_ttl: 768 * 3600,
      options: { version: '1' },
    });
    expect(
      (
        await s.request('POST', 'sys/mounts/kv1/tune', {
          body: { default_lease_ttl: '1h', description: 'tuned' },
        })
      ).status,
    ).toBe(204);
    expect((await s.request('GET', 'sys/mounts/kv1/tune')).body.data).toMatchObject({
      default_lease_ttl: 3600,
      description: 'tuned',
    });
    await s.request('POST', 'kv1/leased', { body: { v: '1' } });
    expect((await s.request('GET', 'kv1/leased')).body.lease_duration).toBe(3600);
    expect(
      (await s.request('POST', 'sys/mounts/kv1/tune', { body: { options: { version: '2' } } }))
        .status,
    ).toBe(400);
    expect(
      (await s.request('POST', 'sys/mounts/kv1/tune', { body: { default_lease_ttl: 'soon' } })).body
        .errors[0],
    ).toMatch(/default_lease_ttl/);
    expect((await s.request('GET', 'sys/mounts/none/tune')).status).toBe(400);
  });

  it('needs the policy of sys/mounts/<path> to enable or disable', async () => {
    const token = await s.token({ policies: ['default'] });
    expect(
      (await send(s.url, 'POST', 'sys/mounts/mine', { token, body: { type: 'kv' } })).status,
    ).toBe(403);
    expect((await send(s.url, 'DELETE', 'sys/mounts/kv1', { token })).status).toBe(403);
    expect((await send(s.url, 'GET', 'kv1/team/a', { token: null })).status).toBe(403);
  });

  it('mount paths are case-sensitive, as in Vault: Team/ and team/ are two mounts, each with its own data, settings and policies', async () => {
    const kv = { team: canaryValue(), Team: canaryValue(), TEAM: canaryValue() };
    for (const path of ['team', 'Team', 'TEAM'] as const) {
      expect((await enable(path, { type: 'kv-v2', description: path })).status, path).toBe(204);
      expect(
        (await s.request('POST', `${path}/data/k`, { body: { data: { v: kv[path] } } })).status,
      ).toBe(200);
    }
    expect((await enable('old', { type: 'kv' })).status).toBe(204);
    expect((await enable('Old', { type: 'kv' })).status).toBe(204);
    expect((await enable('enc', { type: 'transit' })).status).toBe(204);
    expect((await enable('Enc', { type: 'transit' })).status).toBe(204);
    // Each path reads its own mount, in its exact case only.
    for (const path of ['team', 'Team', 'TEAM'] as const)
      expect((await s.request('GET', `${path}/data/k`)).body.data.data.v, path).toBe(kv[path]);
    for (const path of ['tEAM', 'TeAm'])
      expect((await s.request('GET', `${path}/data/k`)).status, path).toBe(404);
    const mounts = (await s.request('GET', 'sys/mounts')).body.data;
    expect(new Set([mounts['team/'].uuid, mounts['Team/'].uuid, mounts['TEAM/'].uuid]).size).toBe(
      3,
    );
    expect((await s.request('GET', 'sys/mounts/Team')).body.data.description).toBe('Team');
    // A mount of another case neither nests in nor clashes with one (a/ vs A/b/).
    expect((await enable('Team/sub', { type: 'kv-v2' })).status).toBe(400);
    expect((await enable('team2/sub', { type: 'kv-v2' })).status).toBe(204);
    // KV version 1 and transit likewise: a key of one is unknown at the other.
    await s.request('POST', 'old/k', { body: { v: kv.team } });
    expect((await s.request('GET', 'Old/k')).status).toBe(404);
    expect((await s.request('POST', 'enc/keys/k', { body: {} })).status).toBe(200);
    expect((await s.request('GET', 'Enc/keys/k')).status).toBe(404);
    const encrypted = await s.request('POST', 'enc/encrypt/k', {
      body: { plaintext: Buffer.from(kv.team).toString('base64') },
    });
    expect(encrypted.status).toBe(200);
    expect((await s.request('POST', 'Enc/keys/k', { body: {} })).status).toBe(200);
    const crossed = await s.request('POST', 'Enc/decrypt/k', {
      body: { ciphertext: encrypted.body.data.ciphertext },
    });
    expect(crossed.status).toBe(400);
    expect(crossed.text).not.toContain(Buffer.from(kv.team).toString('base64'));
    // Policies match case-sensitively: team/* grants nothing of Team/ or TEAM/.
    await s.policy('team-lower', { 'team/*': ['read'], 'sys/mounts/team': ['read'] });
    const token = await s.token({ policies: ['team-lower'], no_default_policy: true });
    expect((await send(s.url, 'GET', 'team/data/k', { token })).status).toBe(200);
    for (const path of ['Team/data/k', 'TEAM/data/k', 'sys/mounts/Team', 'sys/mounts/TEAM'])
      expect((await send(s.url, 'GET', path, { token })).status, path).toBe(403);
    // A tune, a disable and a remount of one leave the others as they were.
    expect(
      (await s.request('POST', 'sys/mounts/Team/tune', { body: { description: 'tuned' } })).status,
    ).toBe(204);
    expect((await s.request('GET', 'sys/mounts/team')).body.data.description).toBe('team');
    expect((await disable('TEAM')).status).toBe(204);
    expect((await s.request('GET', 'TEAM/data/k')).status).toBe(404);
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'Team', to: 'team-moved' } })).status,
    ).toBe(200);
    expect((await s.request('GET', 'team-moved/data/k')).body.data.data.v).toBe(kv.Team);
    expect((await s.request('GET', 'team/data/k')).body.data.data.v).toBe(kv.team);
    // Moved back under a name in yet another case: another mount path, not team/'s.
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'team-moved', to: 'tEAM' } })).status,
    ).toBe(200);
    expect((await s.request('GET', 'tEAM/data/k')).body.data.data.v).toBe(kv.Team);
    expect(
      (await s.request('POST', 'sys/remount', { body: { from: 'tEAM', to: 'team' } })).status,
    ).toBe(400);
  });

  it('AppRole mounts are case-sensitive too: a role of auth/ci/ is unknown at auth/CI/', async () => {
    for (const path of ['ci', 'CI'])
      expect(
        (await s.request('POST', `sys/auth/${path}`, { body: { type: 'approle' } })).status,
        path,
      ).toBe(204);
    expect(
      (await s.request('POST', 'auth/ci/role/r', { body: { secret_id_num_uses: 1 } })).status,
    ).toBe(204);
    expect((await s.request('GET', 'auth/ci/role/r/role-id')).status).toBe(200);
    expect((await s.request('GET', 'auth/CI/role/r/role-id')).status).toBe(404);
    const listed = (await s.request('GET', 'sys/auth')).body.data;
    expect(listed['ci/'].uuid).not.toBe(listed['CI/'].uuid);
    // The token method has one path: auth/Token/ is not it (no mount there).
    expect((await s.request('GET', 'auth/Token/lookup-self')).status).toBe(404);
  });
});
