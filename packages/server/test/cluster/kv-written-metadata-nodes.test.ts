/**
 * Review of fill-after-write (a KV write keeps the metadata it committed in its node's cache):
 * two nodes on one storage (PostgreSQL, or one SQLite file in one process). Whatever node B
 * changes about a key — deleting it, its metadata, its versions — node A's next write of the
 * key, which A last wrote itself, decides on what storage holds: create or update (and the ACL
 * capability that goes with it), check-and-set, max_versions, delete_version_after, cas_required.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hclPolicy, storageKinds } from '../harness.js';
import { twoNodes } from './two-nodes.js';

const A = 0;
const B = 1;

describe.each(await storageKinds())('KV writes on A after changes on B (%s)', (kind) => {
  let cluster: Awaited<ReturnType<typeof twoNodes>>;
  let n = 0;
  const next = () => `written/k${++n}`;
  beforeAll(async () => {
    cluster = await twoNodes(kind);
  });
  afterAll(() => cluster.close());

  const write = (node: number, key: string, data: unknown, options?: unknown, token?: string) =>
    cluster.request(
      node,
      'POST',
      `secret/data/${key}`,
      { data, ...(options === undefined ? {} : { options }) },
      token,
    );

  it('a key deleted on B is created again on A from version 1, with no old versions', async () => {
    const key = next();
    for (let v = 1; v <= 3; v++) expect((await write(A, key, { v })).body.data.version).toBe(v);
    expect((await cluster.request(B, 'DELETE', `secret/metadata/${key}`)).status).toBe(204);
    const again = await write(A, key, { v: 'new' });
    expect(again.body.data.version).toBe(1);
    const meta = await cluster.request(B, 'GET', `secret/metadata/${key}`);
    expect(Object.keys(meta.body.data.versions)).toEqual(['1']);
    expect((await write(A, key, { v: 'next' })).body.data.version).toBe(2);
    expect(
      (await cluster.request(B, 'GET', `secret/data/${key}?version=1`)).body.data.data,
    ).toEqual({ v: 'new' });
  });

  it('check-and-set on A is judged on what B did: a deleted key takes cas 0 only', async () => {
    const key = next();
    await write(A, key, { v: 1 });
    await write(A, key, { v: 2 });
    expect((await cluster.request(B, 'DELETE', `secret/metadata/${key}`)).status).toBe(204);
    expect((await write(A, key, { v: 3 }, { cas: 2 })).status).toBe(400);
    expect((await write(A, key, { v: 3 }, { cas: 0 })).body.data.version).toBe(1);
    // A version written on B: A's kept metadata (version 1) must not pass cas 1.
    expect((await write(B, key, { v: 'b' }, { cas: 1 })).body.data.version).toBe(2);
    expect((await write(A, key, { v: 4 }, { cas: 1 })).status).toBe(400);
    expect((await write(A, key, { v: 4 }, { cas: 2 })).body.data.version).toBe(3);
  });

  it('metadata set on B (cas_required, max_versions, delete_version_after) applies to A’s next write', async () => {
    const key = next();
    await write(A, key, { v: 1 });
    await write(A, key, { v: 2 });
    expect(
      (
        await cluster.request(B, 'POST', `secret/metadata/${key}`, {
          cas_required: true,
          max_versions: 2,
          delete_version_after: '1h',
          custom_metadata: { owner: 'b' },
        })
      ).status,
    ).toBe(204);
    expect((await write(A, key, { v: 3 })).status).toBe(400); // cas required now
    const third = await write(A, key, { v: 3 }, { cas: 2 });
    expect(third.body.data.version).toBe(3);
    expect(third.body.data.deletion_time).not.toBe('');
    const meta = (await cluster.request(B, 'GET', `secret/metadata/${key}`)).body.data;
    expect(Object.keys(meta.versions).sort()).toEqual(['2', '3']);
    expect(meta.custom_metadata).toEqual({ owner: 'b' });
    expect(meta.cas_required).toBe(true);
    expect((await cluster.request(B, 'GET', `secret/data/${key}?version=1`)).status).toBe(404);
  });

  it('versions destroyed and deleted on B stay so through A’s next write', async () => {
    const key = next();
    await write(A, key, { v: 1 });
    await write(A, key, { v: 2 });
    await cluster.request(B, 'POST', `secret/destroy/${key}`, { versions: [1] });
    await cluster.request(B, 'POST', `secret/delete/${key}`, { versions: [2] });
    expect((await write(A, key, { v: 3 })).body.data.version).toBe(3);
    const meta = (await cluster.request(B, 'GET', `secret/metadata/${key}`)).body.data;
    expect(meta.versions['1'].destroyed).toBe(true);
    expect(meta.versions['2'].deletion_time).not.toBe('');
    expect((await cluster.request(A, 'GET', `secret/data/${key}?version=1`)).body.data.data).toBe(
      null,
    );
  });

  it('ACL: create-only and update-only tokens on A follow whether the key exists after B’s changes', async () => {
    const key = next();
    const policy = (name: string, caps: string[]) =>
      cluster.request(A, 'POST', `sys/policies/acl/${name}`, {
        policy: hclPolicy({ [`secret/data/${key}`]: caps }),
      });
    expect((await policy(`create-${n}`, ['create'])).status).toBe(204);
    expect((await policy(`update-${n}`, ['update'])).status).toBe(204);
    const token = async (name: string) =>
      (await cluster.request(A, 'POST', 'auth/token/create', { policies: [name] })).body.auth
        .client_token as string;
    const creator = await token(`create-${n}`);
    const updater = await token(`update-${n}`);

    expect((await write(A, key, { v: 1 }, undefined, creator)).status).toBe(200);
    // A keeps the metadata it wrote: the key exists, so the creator may not write again…
    expect((await write(A, key, { v: 2 }, undefined, creator)).status).toBe(403);
    expect((await write(A, key, { v: 2 }, undefined, updater)).status).toBe(200);
    // …until B deletes it: then the updater may not, the creator may.
    expect((await cluster.request(B, 'DELETE', `secret/metadata/${key}`)).status).toBe(204);
    expect((await write(A, key, { v: 3 }, undefined, updater)).status).toBe(403);
    expect((await cluster.request(B, 'GET', `secret/metadata/${key}`)).status).toBe(404);
    expect((await write(A, key, { v: 3 }, undefined, creator)).status).toBe(200);
    // Created on B: the creator is refused on A again.
    expect((await cluster.request(B, 'DELETE', `secret/metadata/${key}`)).status).toBe(204);
    expect((await write(B, key, { v: 'b' })).status).toBe(200);
    expect((await write(A, key, { v: 4 }, undefined, creator)).status).toBe(403);
  });

  it('concurrent writes of one key on both nodes: versions unique and gap-free, all answered', async () => {
    const key = next();
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => write(i % 2, key, { i })),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    const versions = results.map((r) => r.body.data.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // Each node then writes the next version on what it holds.
    expect((await write(A, key, { i: 'a' })).body.data.version).toBe(61);
    expect((await write(B, key, { i: 'b' })).body.data.version).toBe(62);
  });

  it('concurrent cas writes of one key on both nodes: exactly one wins', async () => {
    const key = next();
    await write(A, key, { v: 0 });
    await write(B, key, { v: 0 }); // both nodes keep version 2's metadata or read it
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => write(i % 2, key, { i }, { cas: 2 })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(39);
  });
});
