import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memorySink } from '../../test/audit.js';
import { openSealBed, type SealBed } from '../../test/seal-manager.js';
import { createBarrier } from '../barrier/barrier.js';
import { AuditBroker } from './audit-broker.js';

// Each distinct value of a request is HMAC'd once per sink for its two entries, and the HMACs
// kept for that are dropped once the response is logged; those of the caller's own values
// (accessor, display name, policies, metadata) are kept for its next requests.
describe('audit HMACs within one request', () => {
  let bed: SealBed;
  let broker: AuditBroker;
  const sink = memorySink();
  const token = ['cst', 'memo-test-token'].join('.');
  const accessor = 'acc-memo-test';

  beforeAll(async () => {
    bed = await openSealBed();
    const [share] = await bed.seal.initialize(1, 1);
    await bed.seal.submitShare(share as Buffer);
    broker = new AuditBroker([sink]);
    await broker.activate(
      createBarrier(bed.store, {
        keyring: () => bed.seal.keyring(),
        reloadKeyring: () => bed.seal.reloadKeyring(),
      }),
    );
  });
  afterAll(async () => {
    await broker.deactivate();
    await bed.close();
  });

  it('HMACs a value met again once, writes the same HMACs as before, and keeps none after', async () => {
    const record = await broker.logRequest({
      id: 'req-1',
      operation: 'update',
      path: 'auth/token/lookup',
      remoteAddress: '127.0.0.1',
      token,
      entry: { accessor, displayName: 'root', policies: ['root'], meta: { team: 'ops' } },
      data: { token, again: token },
    });
    // The token (four times: two client_token fields and two data values), the accessor and
    // the metadata value: three distinct values, three HMACs. The request's own layer holds
    // the token; the caller's accessor and metadata value are kept for its next requests.
    const kept = record.sinks.get(sink.name);
    expect([...(kept?.memo.keys() ?? [])]).toEqual([token]);
    expect([accessor, 'ops'].map((v) => kept?.memo.has(v))).toEqual([true, true]);

    await broker.logResponse(record, 200, {
      data: { id: token, accessor, ttl: 0, num_uses: 0, renewable: false },
    });
    expect(kept?.memo.size).toBe(0);
    expect(kept?.memo.has(token)).toBe(false);

    const [request, response] = sink.lines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.request?.id === 'req-1');
    const hashed = (value: string | number | boolean) => broker.hash(sink.name, value);
    expect(request.auth.client_token).toBe(hashed(token));
    expect(request.auth.accessor).toBe(hashed(accessor));
    expect(request.auth.metadata).toEqual({ team: hashed('ops') });
    expect(request.request.data).toEqual({ token: hashed(token), again: hashed(token) });
    expect(response.auth).toEqual(request.auth);
    expect(response.request).toEqual(request.request);
    expect(response.response).toEqual({
      status: 200,
      data: {
        id: hashed(token),
        accessor: hashed(accessor),
        ttl: hashed(0),
        num_uses: hashed(0),
        renewable: hashed(false),
      },
    });
    expect(sink.lines.join('\n')).not.toContain(token);
  });

  it("keeps each request's HMACs to itself when requests interleave", async () => {
    const tokens = ['first', 'second', 'third'].map((n) => ['cst', `memo-${n}`].join('.'));
    const records = await Promise.all(
      tokens.map((t, i) =>
        broker.logRequest({
          id: `mix-${i}`,
          operation: 'read',
          path: 'auth/token/lookup-self',
          remoteAddress: '127.0.0.1',
          token: t,
          entry: { accessor: `acc-${i}`, displayName: 'token', policies: ['default'], meta: {} },
          data: { shared: 'same-in-all' },
        }),
      ),
    );
    // Each request holds its own values only, never another's.
    for (const [i, record] of records.entries()) {
      const memo = record.sinks.get(sink.name)?.memo;
      expect(tokens.filter((t) => memo?.has(t))).toEqual([tokens[i]]);
    }
    // Responses in the reverse order, each echoing its own token and one shared value.
    for (const i of [2, 0, 1]) {
      await broker.logResponse(records[i] as (typeof records)[number], 200, {
        data: { id: tokens[i], shared: 'same-in-all' },
      });
    }
    for (const record of records) expect(record.sinks.get(sink.name)?.memo.size).toBe(0);
    const hashed = (value: string) => broker.hash(sink.name, value);
    for (const [i, t] of tokens.entries()) {
      const entries = sink.lines
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.request?.id === `mix-${i}`);
      expect(entries.map((e) => e.type)).toEqual(['request', 'response']);
      for (const entry of entries) {
        expect(entry.auth.client_token).toBe(hashed(t));
        expect(entry.auth.accessor).toBe(hashed(`acc-${i}`));
        expect(entry.request.data).toEqual({ shared: hashed('same-in-all') });
      }
      expect(entries[1].response.data).toEqual({ id: hashed(t), shared: hashed('same-in-all') });
    }
  });
  it("keeps the HMACs of a caller's own values across its requests, and nothing they carried", async () => {
    const identity = {
      accessor: 'acc-kept',
      displayName: 'svc-kept',
      policies: ['default', 'app-kept'],
      meta: { team: 'kept-team' },
    };
    const canaries = ['request-canary-7d1f', 'response-canary-93ab'];
    const run = async (id: string) => {
      const record = await broker.logRequest({
        id,
        operation: 'update',
        path: 'secret/data/app',
        remoteAddress: '127.0.0.1',
        token,
        entry: identity,
        data: { note: canaries[0] },
      });
      const memo = record.sinks.get(sink.name)?.memo;
      await broker.logResponse(record, 200, {
        data: { secret: canaries[1], policies: identity.policies, who: 'svc-kept' },
      });
      return memo;
    };
    await run('kept-1');
    const memo = await run('kept-2');
    // The second request found the caller's values HMAC'd already: its own layer held only
    // what it carried, and keeps none of that after its response.
    expect(memo?.size).toBe(0);
    expect([...canaries, token].map((v) => memo?.has(v))).toEqual([false, false, false]);
    for (const value of ['acc-kept', 'svc-kept', 'default', 'app-kept', 'kept-team'])
      expect(memo?.has(value)).toBe(true);

    const hashed = (value: string) => broker.hash(sink.name, value);
    for (const id of ['kept-1', 'kept-2']) {
      const [request, response] = sink.lines
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.request?.id === id);
      expect(request.auth).toMatchObject({
        client_token: hashed(token),
        accessor: hashed('acc-kept'),
        metadata: { team: hashed('kept-team') },
      });
      expect(request.request.data).toEqual({ note: hashed(canaries[0] as string) });
      expect(response.response.data).toEqual({
        secret: hashed(canaries[1] as string),
        policies: [hashed('default'), hashed('app-kept')],
        who: hashed('svc-kept'),
      });
    }
    for (const canary of canaries) expect(sink.lines.join('\n')).not.toContain(canary);
  });
});
