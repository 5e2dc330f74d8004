import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const HOUR_MS = 3600_000;

describe.each(await storageKinds())('transit key lifecycle and usage log on %s', (kind) => {
  let s: TestServer;
  let nowMs = Date.parse('2026-03-01T12:00:00Z');
  beforeAll(async () => {
    s = await startTestServer(kind, { transit: { now: () => new Date(nowMs) } });
  });
  afterAll(async () => {
    await s.close();
  });

  const encrypt = (name: string, body: Record<string, unknown>) =>
    s.request('POST', `transit/encrypt/${name}`, { body });
  const setState = (name: string, state: string) =>
    s.request('POST', `transit/keys/${name}/state`, { body: { state } });
  const configure = (name: string, body: Record<string, unknown>) =>
    s.request('POST', `transit/keys/${name}/config`, { body });

  it('an expired key only leaves to pending_deletion: no state change and no expires_at change revives it', async () => {
    const expiresAt = new Date(nowMs + HOUR_MS).toISOString();
    await s.request('POST', 'transit/keys/exp', { body: { expires_at: expiresAt } });
    const ct = (await encrypt('exp', { plaintext: b64('kept') })).body.data.ciphertext;
    // Before it passes, expires_at may move.
    const moved = new Date(nowMs + 2 * HOUR_MS).toISOString();
    expect((await configure('exp', { expires_at: moved })).body.data.expires_at).toBe(moved);
    nowMs += 3 * HOUR_MS;
    expect((await s.request('GET', 'transit/keys/exp')).body.data.state).toBe('expired');
    expect((await encrypt('exp', { plaintext: b64('x') })).body.errors).toEqual([
      'key exp is expired: it cannot encrypt',
    ]);
    for (const state of ['rotating', 'active', 'inactive', 'revoked']) {
      expect(await setState('exp', state)).toMatchObject({
        status: 400,
        body: {
          errors: [
            `a key cannot go from expired to ${state} (allowed from expired: pending_deletion)`,
          ],
        },
      });
    }
    for (const value of [null, '', new Date(nowMs + 24 * HOUR_MS).toISOString()]) {
      expect(await configure('exp', { expires_at: value })).toMatchObject({
        status: 400,
        body: {
          errors: [
            `key exp expired at ${moved}: its expires_at cannot change (an expired key only leaves to pending_deletion)`,
          ],
        },
      });
    }
    expect((await s.request('GET', 'transit/keys/exp')).body.data).toMatchObject({
      state: 'expired',
      expires_at: moved,
    });
    expect(
      (await s.request('POST', 'transit/decrypt/exp', { body: { ciphertext: ct } })).body.data
        .plaintext,
    ).toBe(b64('kept'));
    expect((await setState('exp', 'pending_deletion')).body.data.state).toBe('pending_deletion');
    // Deletion cancelled: the key is back to what the clock says, expired.
    expect((await setState('exp', 'inactive')).body.data.state).toBe('expired');
    expect((await encrypt('exp', { plaintext: b64('x') })).status).toBe(400);
  });

  it('logs failures before any item too (no key, revoked key, malformed request): operation, actor, request id, never data', async () => {
    await s.request('POST', 'transit/keys/audited', { body: {} });
    const canary = b64('canary-usage-5d1c');
    const ct = (await encrypt('audited', { plaintext: canary })).body.data.ciphertext;
    await s.request('POST', 'transit/hmac/audited', { body: { input: canary } });
    expect(
      (await s.request('POST', 'transit/decrypt/audited', { body: { batch_input: 'nope' } }))
        .status,
    ).toBe(400);
    await setState('audited', 'revoked');
    expect(
      (await s.request('POST', 'transit/datakey/plaintext/audited', { body: {} })).body.errors,
    ).toEqual(['key audited is revoked: it cannot encrypt']);
    expect((await encrypt('audited', { plaintext: canary })).status).toBe(400);
    expect(
      (await s.request('POST', 'transit/rewrap/audited', { body: { ciphertext: ct } })).status,
    ).toBe(400);
    expect(
      (await s.request('POST', 'transit/decrypt/ghost', { body: { ciphertext: ct } })).body.errors,
    ).toEqual(['encryption key not found']);

    const usage = (await s.request('GET', 'transit/keys/audited/usage')).body.data.usage as Record<
      string,
      unknown
    >[];
    expect(usage.map((u) => [u.operation, u.success, u.version])).toEqual([
      ['encrypt', true, 1],
      ['hmac', true, 1],
      ['decrypt', false, undefined],
      ['datakey-plaintext', false, undefined],
      ['encrypt', false, undefined],
      ['rewrap', false, undefined],
    ]);
    for (const entry of usage) {
      expect(entry).toMatchObject({
        display_name: 'root',
        request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    }
    expect(new Set(usage.map((u) => u.request_id)).size).toBe(usage.length);
    expect(JSON.stringify(usage)).not.toContain(canary);
    // A name with no key gets no log (the audit log records the probe): a key created later
    // under it would inherit it, and probing random names would fill storage.
    expect(await s.server.context.transitUsage.read('ghost')).toEqual([]);
  });
});
