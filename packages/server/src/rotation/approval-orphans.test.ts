import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

/**
 * An orphan token has no parent to walk to, so its display name (which its creator chooses)
 * would be a new identity: a requester who may mint orphans — through an orphan token role, or
 * with sudo on `auth/token/create-orphan` or `no_parent` — must not approve their own rotation
 * with one, nor act as another person by naming it after them. An orphan made by a token other
 * than root acts for its creator's identity, service or batch, and so do its children.
 */
describe.each(await storageKinds())('approvals with orphan tokens on %s', (kind) => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.policy('rotate-orph', {
      'secret/data/orph/*': ['read'],
      'sys/rotate-secret/secret/orph/*': ['update'],
      'sys/rotation-approve/*': ['update'],
      'auth/token/create': ['update'],
      'auth/token/create/*': ['update'],
    });
    await s.policy('orphan-maker', {
      'auth/token/create-orphan': ['update', 'sudo'],
      'auth/token/create': ['update', 'sudo'],
      'auth/token/revoke-orphan': ['update', 'sudo'],
    });
    for (const [role, type] of [
      ['ci', 'service'],
      ['ci-batch', 'batch'],
    ] as const)
      expect(
        (
          await s.request('POST', `auth/token/roles/${role}`, {
            body: { orphan: true, allowed_policies: ['rotate-orph'], token_type: type },
          })
        ).status,
      ).toBe(204);
    tokens.alice = await s.token({
      display_name: 'alice',
      policies: ['rotate-orph', 'orphan-maker'],
    });
    tokens.bob = await s.token({ display_name: 'bob', policies: ['rotate-orph'] });
    tokens.carol = await s.token({ display_name: 'carol', policies: ['rotate-orph'] });
    // Root hands out an orphan for a person: that one is its own person.
    const dave = await s.request('POST', 'auth/token/create-orphan', {
      body: { display_name: 'dave', policies: ['rotate-orph'] },
    });
    tokens.dave = dave.body.auth.client_token;
    await s.request('POST', 'secret/data/orph/db', { body: { data: { value: 'v1' } } });
    expect(
      (
        await s.request('POST', 'sys/rotation/secret/orph/db', {
          body: { rotator: 'random', schedule: '90d', approvals: 2, approval_ttl: '1h' },
        })
      ).status,
    ).toBe(204);
  });
  afterAll(async () => {
    await s.close();
  });

  const approve = (id: string, token: string) =>
    s.request('POST', `sys/rotation-approve/${id}`, { token });
  const version = async () =>
    (await s.request('GET', 'secret/data/orph/db')).body.data.metadata.version as number;

  /** Every way alice can mint an orphan token naming itself `name`. */
  const orphansOf = async (creator: string, name: string): Promise<[string, string][]> => {
    const ways: [string, string, Record<string, unknown>][] = [
      ['role', 'auth/token/create/ci', {}],
      ['batch role', 'auth/token/create/ci-batch', {}],
      ['create-orphan', 'auth/token/create-orphan', { policies: ['rotate-orph'] }],
      ['no_parent', 'auth/token/create', { policies: ['rotate-orph'], no_parent: true }],
      ['orphaned child', 'auth/token/create', { policies: ['rotate-orph'] }],
    ];
    const out: [string, string][] = [];
    for (const [way, path, body] of ways) {
      // `revoke-orphan` of a middle token leaves its child without a parent.
      const middle =
        way === 'orphaned child'
          ? (
              await s.request('POST', path, {
                token: creator,
                body: { ...body, display_name: 'middle' },
              })
            ).body.auth.client_token
          : creator;
      const r = await s.request('POST', path, {
        token: middle,
        body: { ...body, display_name: name },
      });
      expect(r.status, way).toBe(200);
      if (way === 'orphaned child') {
        const revoked = await s.request('POST', 'auth/token/revoke-orphan', {
          token: creator,
          body: { token: middle },
        });
        expect(revoked.status, way).toBe(204);
        const looked = await s.request('POST', 'auth/token/lookup', {
          body: { token: r.body.auth.client_token },
        });
        expect(looked.body.data.orphan, way).toBe(true);
      } else expect(r.body.auth.orphan, way).toBe(true);
      out.push([way, r.body.auth.client_token]);
      // A child of that orphan is its creator's too.
      if (way === 'role') {
        const child = await s.request('POST', 'auth/token/create', {
          token: r.body.auth.client_token,
          body: { display_name: `${name}-child`, policies: ['rotate-orph'] },
        });
        expect(child.status).toBe(200);
        out.push(['child of a role orphan', child.body.auth.client_token]);
      }
    }
    return out;
  };

  it("counts an orphan a requester made as the requester's, however it is named", async () => {
    const before = await version();
    const asked = await s.request('POST', 'sys/rotate-secret/secret/orph/db', {
      token: tokens.alice as string,
      body: { force: true },
    });
    expect(asked.body.data.result).toBe('approval_required');
    const id = asked.body.data.request_id as string;
    for (const name of ['mallory', 'bob', 'Alice', 'alice']) {
      for (const [way, token] of await orphansOf(tokens.alice as string, name)) {
        const r = await approve(id, token);
        expect(r.status, `${way} named ${name}`).toBe(403);
        expect(r.body.errors[0], `${way} named ${name}`).toMatch(/requester cannot approve/);
      }
    }
    expect(await version()).toBe(before);
    // bob's own token still counts as bob (nobody took his name), and dave's root-made orphan
    // as dave.
    const first = await approve(id, tokens.bob as string);
    expect(first.body.data).toMatchObject({ state: 'pending', approved_by: ['token-bob'] });
    const second = await approve(id, tokens.dave as string);
    expect(second.body.data).toMatchObject({
      state: 'approved',
      result: 'succeeded',
      approved_by: ['token-bob', 'token-dave'],
    });
    expect(await version()).toBe(before + 1);
  });

  it('lets an orphan another person made approve as that person, once', async () => {
    const asked = await s.request('POST', 'sys/rotate-secret/secret/orph/db', {
      token: tokens.bob as string,
      body: { force: true },
    });
    const id = asked.body.data.request_id as string;
    const [[, fromAlice], [, alsoFromAlice]] = (await orphansOf(
      tokens.alice as string,
      'carol',
    )) as [[string, string], [string, string]];
    const first = await approve(id, fromAlice);
    expect(first.body.data).toMatchObject({ state: 'pending', approved_by: ['token-alice'] });
    const again = await approve(id, alsoFromAlice);
    expect(again.status).toBe(403);
    expect(again.body.errors[0]).toMatch(/approved the request already/);
    // The real carol is not shadowed by alice's token named after her.
    const carol = await approve(id, tokens.carol as string);
    expect(carol.body.data).toMatchObject({
      state: 'approved',
      approved_by: ['token-alice', 'token-carol'],
    });
  });
});
