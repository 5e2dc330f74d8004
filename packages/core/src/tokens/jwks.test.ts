import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createJwksVerifier,
  createMemoryRevocationStore,
  createTokenService,
  JwtKeyset,
} from './index.js';

const issuer = 'https://auth.test';
const audience = 'billing';

describe('JWKS', () => {
  let keyset: JwtKeyset;
  let published: JSONWebKeySet;
  let server: Server;
  let url: string;
  let requests = 0;

  beforeAll(async () => {
    keyset = await JwtKeyset.generate('EdDSA');
    published = keyset.toJwks();
    server = createServer((req, res) => {
      requests++;
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(published));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies against a local JWKS with the same pinned rules', async () => {
    const issuerService = createTokenService({ keys: keyset, issuer, audience });
    const pair = await issuerService.issueTokenPair({ subject: 'alice' });
    const verifier = createJwksVerifier({ jwks: keyset.toJwks(), issuer, audience });
    await expect(verifier.verify(pair.accessToken)).resolves.toMatchObject({ sub: 'alice' });
    await expect(verifier.verify(pair.refreshToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_WRONG_TYPE',
    });
    await expect(verifier.verify(pair.refreshToken, 'refresh')).resolves.toMatchObject({
      sub: 'alice',
      fam: pair.familyId,
    });
    const wrongAudience = createJwksVerifier({ jwks: keyset.toJwks(), issuer, audience: 'other' });
    await expect(wrongAudience.verify(pair.accessToken)).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
    });
  });

  it('verifies against a remote JWKS over HTTP, refetching when a new kid appears', async () => {
    const verifier = createJwksVerifier({ jwks: url, issuer, audience, cooldownSeconds: 0 });
    const first = await createTokenService({ keys: keyset, issuer, audience }).signAccessToken({
      subject: 'bob',
    });
    await expect(verifier.verify(first.token)).resolves.toMatchObject({ sub: 'bob' });
    const fetched = requests;

    // The issuer rotates and publishes; the verifier learns the new kid on first sight.
    keyset = await keyset.rotate({ graceSeconds: 3600, algorithm: 'ES256' });
    published = keyset.toJwks();
    const second = await createTokenService({ keys: keyset, issuer, audience }).signAccessToken({
      subject: 'bob',
    });
    await expect(verifier.verify(second.token)).resolves.toMatchObject({ sub: 'bob' });
    expect(requests).toBe(fetched + 1);
    // Still in its grace.
    await expect(verifier.verify(first.token)).resolves.toMatchObject({
      sub: 'bob',
      jti: first.jti,
    });

    const foreign = await createTokenService({
      keys: await JwtKeyset.generate('ES256'),
      issuer,
      audience,
    }).signAccessToken({ subject: 'mallory' });
    await expect(verifier.verify(foreign.token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_KEY_NOT_FOUND',
    });
  });

  it('reports an unreachable JWKS as unavailable', async () => {
    const token = (
      await createTokenService({ keys: keyset, issuer, audience }).signAccessToken({ subject: 'c' })
    ).token;
    const missing = createJwksVerifier({
      jwks: url.replace('jwks.json', 'nope.json'),
      issuer,
      audience,
    });
    await expect(missing.verify(token)).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE' });
    const closed = createJwksVerifier({
      jwks: 'http://127.0.0.1:9/jwks.json',
      issuer,
      audience,
      timeoutSeconds: 2,
    });
    await expect(closed.verify(token)).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE' });
  });

  it('refuses ambiguous kids, insecure URLs, HS256 and checks revocation when given a store', async () => {
    const issuerService = createTokenService({ keys: keyset, issuer, audience });
    const { token } = await issuerService.signAccessToken({ subject: 'dan' });
    const key = keyset.toJwks().keys[0];
    const twice = createJwksVerifier({
      jwks: { keys: [key, { ...key }] } as JSONWebKeySet,
      issuer,
      audience,
    });
    await expect(twice.verify(token)).rejects.toMatchObject({ code: 'ERR_TOKEN_KEY_NOT_FOUND' });

    expect(() =>
      createJwksVerifier({ jwks: 'http://auth.example.com/jwks', issuer, audience }),
    ).toThrow(/https/);
    expect(() =>
      createJwksVerifier({
        jwks: keyset.toJwks(),
        issuer,
        audience,
        algorithms: ['HS256' as 'ES256'],
      }),
    ).toThrow(/ES256, EdDSA, RS256/);
    expect(() =>
      createJwksVerifier({ jwks: { keys: 'x' } as unknown as JSONWebKeySet, issuer, audience }),
    ).toThrow(/not a valid JWK Set/);

    const revocations = createMemoryRevocationStore();
    const shared = createTokenService({ keys: keyset, issuer, audience, revocations });
    const revoked = await shared.signAccessToken({ subject: 'erin' });
    await shared.revokeToken(revoked.token);
    const verifier = createJwksVerifier({ jwks: keyset.toJwks(), issuer, audience, revocations });
    await expect(verifier.verify(revoked.token)).rejects.toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
    });
  });
});
