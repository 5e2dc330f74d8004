import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hclPolicy,
  send,
  startTestServer,
  storageKinds,
  type TestServer,
} from '../../test/harness.js';
import { TOKENS } from '../storage/layout.js';

describe.each(await storageKinds())('auth/token/revoke-orphan and tidy on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.request('POST', 'sys/policies/acl/token-admin', {
      body: {
        policy: hclPolicy({
          'auth/token/*': ['create', 'update', 'read'],
        }),
      },
    });
    await s.request('POST', 'sys/policies/acl/token-sudo', {
      body: {
        policy: hclPolicy({
          'auth/token/*': ['create', 'update', 'read', 'sudo'],
        }),
      },
    });
  });
  afterAll(async () => {
    await s.close();
  });

  /** A token created by `parent` (a child in its tree). */
  const childOf = async (parent: string) =>
    (
      await send(s.url, 'POST', 'auth/token/create', {
        token: parent,
        body: { policies: ['token-admin'] },
      })
    ).body.auth.client_token as string;
  const lookup = (token: string) => send(s.url, 'GET', 'auth/token/lookup-self', { token });

  it('revokes the token only: its children live on as orphans, their own children too', async () => {
    const parent = await s.token({ policies: ['token-admin'] });
    const child = await childOf(parent);
    const grandchild = await childOf(child);
    expect((await lookup(child)).body.data.orphan).toBe(false);

    expect(
      (await s.request('POST', 'auth/token/revoke-orphan', { body: { token: parent } })).status,
    ).toBe(204);
    expect((await lookup(parent)).status).toBe(403);
    const orphaned = await lookup(child);
    expect(orphaned.status).toBe(200);
    expect(orphaned.body.data.orphan).toBe(true);
    expect((await lookup(grandchild)).status).toBe(200);
    // The grandchild is still its parent's child: revoking the orphan takes it along.
    expect((await s.request('POST', 'auth/token/revoke', { body: { token: child } })).status).toBe(
      204,
    );
    expect((await lookup(grandchild)).status).toBe(403);
  });

  it('needs sudo: a token with update on the path but no sudo gets 403 and nothing happens', async () => {
    const target = await s.token({ policies: ['token-admin'] });
    const child = await childOf(target);
    const admin = await s.token({ policies: ['token-admin'] });
    const sudo = await s.token({ policies: ['token-sudo'] });
    for (const path of [
      'auth/token/revoke-orphan',
      'auth/token/revoke-orphan/',
      'auth/token/Revoke-Orphan',
      'auth/token//revoke-orphan',
    ]) {
      const refused = await send(s.url, 'POST', path, { token: admin, body: { token: target } });
      expect([403, 404, 400], path).toContain(refused.status);
    }
    expect((await lookup(target)).status).toBe(200);
    expect(
      (
        await send(s.url, 'POST', 'auth/token/revoke-orphan', {
          token: sudo,
          body: { token: target },
        })
      ).status,
    ).toBe(204);
    expect((await lookup(target)).status).toBe(403);
    expect((await lookup(child)).status).toBe(200);
  });

  it('refuses a batch token and a missing token field; an unknown token is a no-op', async () => {
    const batch = (
      await s.request('POST', 'auth/token/create', {
        body: { type: 'batch', policies: ['default'] },
      })
    ).body.auth.client_token as string;
    expect(
      (await s.request('POST', 'auth/token/revoke-orphan', { body: { token: batch } })).status,
    ).toBe(400);
    expect((await s.request('POST', 'auth/token/revoke-orphan', { body: {} })).status).toBe(400);
    expect(
      (await s.request('POST', 'auth/token/revoke-orphan', { body: { token: 'cst.nothing' } }))
        .status,
    ).toBe(204);
  });

  it('leaves no child unorphaned when children are created while the parent is revoked', async () => {
    for (let round = 0; round < 5; round++) {
      const parent = await s.token({ policies: ['token-admin'] });
      const creations = Array.from({ length: 6 }, () =>
        send(s.url, 'POST', 'auth/token/create', {
          token: parent,
          body: { policies: ['default'] },
        }),
      );
      const revocation = s.request('POST', 'auth/token/revoke-orphan', { body: { token: parent } });
      const [revoked, ...created] = await Promise.all([revocation, ...creations]);
      expect(revoked.status).toBe(204);
      for (const response of created) {
        // Created before the mark: an orphan now; refused after it.
        if (response.status !== 200) {
          expect(response.status).toBe(403);
          continue;
        }
        const looked = await lookup(response.body.auth.client_token);
        expect(looked.status).toBe(200);
        expect(looked.body.data.orphan).toBe(true);
      }
    }
  });

  it('tidy answers 202 with Vault warning and removes what no token holds', async () => {
    const tokens = s.server.context.tokens;
    const live = await s.token({ policies: ['default'] });
    // Plant leftovers of an interrupted revocation: an accessor entry and a child link of no token.
    const barrier = s.server.context.barrier;
    const T = TOKENS.prefix;
    await barrier.create(`${T}accessor/dangling-accessor`, { hash: 'f'.repeat(64) });
    await barrier.create(`${T}child/${'e'.repeat(64)}/${'d'.repeat(64)}`, {});
    const tidied = await s.request('POST', 'auth/token/tidy');
    expect(tidied.status).toBe(202);
    expect(tidied.body.warnings[0]).toMatch(/^Tidy operation successfully started/);
    expect(tidied.body.data.accessors_removed).toBeGreaterThanOrEqual(1);
    expect(tidied.body.data.child_links_removed).toBeGreaterThanOrEqual(1);
    expect(await barrier.listPaths(`${T}accessor/dangling`)).toEqual([]);
    expect(await barrier.listPaths(`${T}child/${'e'.repeat(64)}/`)).toEqual([]);
    // Live tokens are untouched.
    expect((await lookup(live)).status).toBe(200);
    expect((await tokens.tidy()).accessors).toBe(0);
    const plain = await s.token({ policies: ['default'] });
    expect((await send(s.url, 'POST', 'auth/token/tidy', { token: plain })).status).toBe(403);
  });
});
