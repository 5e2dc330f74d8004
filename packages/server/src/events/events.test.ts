import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestStorage,
  hclPolicy,
  send,
  storageKinds,
  type TestStorage,
} from '../../test/harness.js';
import {
  type InitResult,
  initOverHttp,
  startSealedServer,
  unsealOverHttp,
} from '../../test/seal.js';
import type { RunningServer } from '../server.js';

/** A name nobody could guess, made at run time: it must never reach a token that cannot read it. */
const canary = () => `canary-${randomBytes(6).toString('hex')}`;

/** Two servers on one database, as two nodes of a deployment. */
describe.each(await storageKinds())('change events of secrets on %s', (kind) => {
  let storage: TestStorage;
  let init: InitResult;
  const nodes: RunningServer[] = [];
  const urlOf = (node: number) => (nodes[node] as RunningServer).url;
  const root = (node: number, method: string, path: string, body?: unknown) =>
    send(urlOf(node), method, path, {
      token: init.rootToken,
      ...(body === undefined ? {} : { body }),
    });
  const poll = (node: number, token: string, query: string) =>
    send(urlOf(node), 'GET', `sys/events/kv?${query}`, { token });
  /** A token with `policy` (created through node 0). */
  const tokenWith = async (name: string, rules: Record<string, readonly string[]>) => {
    expect(
      (await root(0, 'POST', `sys/policies/acl/${name}`, { policy: hclPolicy(rules) })).status,
    ).toBe(204);
    const created = await root(0, 'POST', 'auth/token/create', { policies: [name] });
    return created.body.auth.client_token as string;
  };
  /** The current index of node `node` for `token` (the first poll resyncs). */
  const indexOf = async (node: number, token: string) => {
    const first = await poll(node, token, 'wait=0');
    expect(first.status).toBe(200);
    expect(first.body.data.resync).toBe(true);
    return first.body.data.index as number;
  };

  beforeAll(async () => {
    storage = await createTestStorage(kind);
    const first = await startSealedServer(storage.location);
    init = await initOverHttp(first);
    await first.close();
    for (let i = 0; i < 2; i++) {
      const server = await startSealedServer(storage.location);
      nodes.push(server);
      expect((await unsealOverHttp(server, init.keys)).body.sealed).toBe(false);
    }
  });
  afterAll(async () => {
    for (const node of nodes) await node.close();
    await storage.cleanup();
  });

  it('a write on node A answers a wait on node B, naming the secret and no value', async () => {
    const reader = await tokenWith('events-reader', {
      'sys/events/kv': ['read'],
      'secret/data/app/*': ['read'],
    });
    const index = await indexOf(1, reader);
    const value = canary();
    const waiting = poll(1, reader, `prefix=secret/app/&index=${index}&wait=20s`);
    const started = Date.now();
    expect(
      (await root(0, 'POST', 'secret/data/app/db', { data: { password: value } })).status,
    ).toBe(200);
    const answer = await waiting;
    const elapsed = Date.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.body.data.resync).toBe(false);
    expect(
      answer.body.data.events.map((e: { path: string; kind: string }) => [e.path, e.kind]),
    ).toEqual([['secret/app/db', 'write']]);
    expect(answer.text).not.toContain(value);
    // The measured delivery across nodes (PostgreSQL: B is woken once A's relay entry is
    // written; SQLite: in process; docs/server-api.md); printed for the report, not asserted.
    process.stderr.write(`[events] ${kind}: node A write seen on node B after ${elapsed} ms\n`);
  });

  it('shows a token only the secrets it may read: no name under a deny, none outside its policy', async () => {
    const hidden = canary();
    const denied = canary();
    const reader = await tokenWith('events-partial', {
      'sys/events/kv': ['read'],
      'secret/data/app/*': ['read'],
      [`secret/data/app/${denied}`]: ['deny'],
    });
    const index = await indexOf(0, reader);
    await root(0, 'POST', `secret/data/${hidden}`, { data: { v: canary() } });
    await root(0, 'POST', `secret/data/app/${denied}`, { data: { v: canary() } });
    await root(0, 'DELETE', `secret/metadata/app/${denied}`);
    await root(1, 'POST', `secret/data/${hidden}/x`, { data: { v: canary() } });
    await root(0, 'POST', 'secret/data/app/visible', { data: { v: canary() } });
    // Waits until the visible write is seen; the hidden ones came before it on node 0.
    let seen: string[] = [];
    let at = index;
    let text = '';
    while (!seen.includes('secret/app/visible')) {
      const answer = await poll(0, reader, `index=${at}&wait=10s`);
      expect(answer.status).toBe(200);
      text += answer.text;
      at = answer.body.data.index;
      seen = [...seen, ...answer.body.data.events.map((e: { path: string }) => e.path)];
    }
    // Node 1's hidden write is relayed within the bound (1 s fallback poll); wait past it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await poll(0, reader, `index=${index}&wait=0`);
    text += after.text;
    expect(text).not.toContain(hidden);
    expect(text).not.toContain(denied);
    expect(after.body.data.events.map((e: { path: string }) => e.path)).toEqual([
      'secret/app/visible',
    ]);
  });

  it('announces a finished rotation on the other node, without the new value', async () => {
    const reader = await tokenWith('events-rotation', {
      'sys/events/kv': ['read'],
      'secret/data/rot/*': ['read'],
    });
    expect(
      (await root(0, 'POST', 'secret/data/rot/api', { data: { value: canary() } })).status,
    ).toBe(200);
    expect((await root(0, 'POST', 'sys/rotation/secret/rot/api', { type: 'api_key' })).status).toBe(
      204,
    );
    const index = await indexOf(1, reader);
    const rotated = await root(0, 'POST', 'sys/rotate-secret/secret/rot/api', { force: true });
    expect(rotated.body.data.result).toBe('succeeded');
    const current = (await root(0, 'GET', 'secret/data/rot/api')).body.data.data.value as string;
    let kinds: string[] = [];
    let at = index;
    while (!kinds.includes('rotation')) {
      const answer = await poll(1, reader, `prefix=secret/rot/&index=${at}&wait=10s`);
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(current);
      at = answer.body.data.index;
      kinds = [...kinds, ...answer.body.data.events.map((e: { kind: string }) => e.kind)];
    }
  });

  it('refuses a token without read on sys/events/kv', async () => {
    const other = await tokenWith('events-none', { 'secret/data/*': ['read'] });
    expect((await poll(0, other, 'wait=0')).status).toBe(403);
  });

  it('refuses prefixes with . or .. or empty segments, backslashes; matches case and %2F literally', async () => {
    const reader = await tokenWith('events-prefix', {
      'sys/events/kv': ['read'],
      'secret/data/*': ['read'],
    });
    for (const prefix of [
      'secret/../sys',
      '..',
      'secret/./app',
      'secret//app',
      'secret%5Capp',
      'secret/%2E%2E/x',
    ]) {
      const answer = await poll(0, reader, `prefix=${prefix}&wait=0`);
      expect(answer.status, prefix).toBe(400);
      expect(answer.body.errors[0]).toMatch(/prefix/);
    }
    const index = await indexOf(0, reader);
    expect((await root(0, 'POST', 'secret/data/case/Key', { data: { v: canary() } })).status).toBe(
      200,
    );
    // The server reads this %2F as the separator (the secret case/a/b), and the event names it
    // so: a reader of secret/data/case/a/b is told, as the ACL judged the write.
    expect(
      (await root(0, 'POST', 'secret/data/case/a%2Fb', { data: { v: canary() } })).status,
    ).toBe(200);
    expect((await root(0, 'GET', 'secret/data/case/a/b')).status).toBe(200);
    const upper = await poll(0, reader, `prefix=SECRET/case/&index=${index}&wait=0`);
    expect(upper.body.data.events).toEqual([]);
    const encoded = await poll(0, reader, `prefix=secret%2Fcase%2F&index=${index}&wait=0`);
    expect(encoded.body.data.events.map((e: { path: string }) => e.path)).toEqual([
      'secret/case/Key',
      'secret/case/a/b',
    ]);
  });

  it('ends a wait with 403 when the token is revoked, and answers it no event', async () => {
    const reader = await tokenWith('events-revoked', {
      'sys/events/kv': ['read'],
      'secret/data/*': ['read'],
    });
    const index = await indexOf(1, reader);
    // Its own prefix: the other tests' events (relayed late) do not end this wait.
    const name = canary();
    const waiting = poll(1, reader, `prefix=secret/${name}&index=${index}&wait=60s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await root(0, 'POST', 'auth/token/revoke', { token: reader })).status).toBe(204);
    await root(0, 'POST', `secret/data/${name}`, { data: { v: canary() } });
    const answer = await waiting;
    expect(answer.status).toBe(403);
    expect(answer.text).not.toContain(name);
    expect((await poll(1, reader, `index=${index}&wait=0`)).status).toBe(403);
  });

  it('ends a wait with 503 when the node seals', async () => {
    const reader = await tokenWith('events-seal', {
      'sys/events/kv': ['read'],
      'secret/data/*': ['read'],
    });
    const index = await indexOf(1, reader);
    const waiting = poll(1, reader, `prefix=secret/${canary()}&index=${index}&wait=60s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await root(1, 'POST', 'sys/seal')).status).toBe(204);
    expect((await waiting).status).toBe(503);
    expect((await unsealOverHttp(nodes[1] as RunningServer, init.keys)).body.sealed).toBe(false);
  });
});
