import { JWT_ALGORITHMS, JwtKeyset, loadJwtKeyset, serializeJwtKeyset } from '@custos/core/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';
import { KEYSET_ALGORITHMS } from './jwt-keyset.js';

it("the rotator's algorithms are the token library's", () => {
  expect(KEYSET_ALGORITHMS).toEqual(JWT_ALGORITHMS);
});

describe.each(await storageKinds())('the jwt-keyset rotator, custos on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  it('adds a new current key; the old one verifies until the grace period ends', async () => {
    const first = await JwtKeyset.generate('ES256');
    await s.request('POST', 'secret/data/jwt/app', {
      body: { data: { keyset: serializeJwtKeyset(first) } },
    });
    const policy = await s.request('POST', 'sys/rotation/secret/jwt/app', {
      body: { type: 'jwt_signing_key' },
    });
    expect(policy.status).toBe(204);
    const r = await s.request('POST', 'sys/rotate-secret/secret/jwt/app', {
      body: { force: true },
    });
    expect(r.body.data.result).toBe('succeeded');
    const stored = (await s.request('GET', 'secret/data/jwt/app')).body.data.data.keyset;
    const next = await loadJwtKeyset(stored);
    expect(next.current.kid).not.toBe(first.current.kid);
    const demoted = next.keys.find((k) => k.kid === first.current.kid);
    expect(demoted?.status).toBe('previous');
    // The policy's grace period (24 h for jwt_signing_key) is the key's verify window.
    const window = Date.parse(demoted?.verifyUntil ?? '') - Date.parse(r.body.data.steps[0].time);
    expect(Math.abs(window - 24 * 3600_000)).toBeLessThan(60_000);
    expect(r.text).not.toContain(stored);
  });

  it('refuses an unknown algorithm', async () => {
    const r = await s.request('POST', 'sys/rotation/secret/jwt/bad', {
      body: { rotator: 'jwt-keyset', schedule: '90d', settings: { algorithm: 'none' } },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toMatch(/settings.algorithm must be one of/);
  });
});
