/**
 * docs/tokens.md: an ES256 keyset in `jwt-keys.json` (the working directory; `JWT_KEYS_FILE`
 * points at it), its public JWKS served on loopback (`AUTH_JWKS_URL`), a Redis client, an
 * Express app (whose `/.well-known/jwks.json`, when a snippet adds it, must answer), tokens a
 * client would present, and `JWT_SECRET` for the compatibility mode.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  createRedisRevocationStore,
  createTokenService,
  JwtKeyset,
  writeJwtKeysetFile,
} from '@custos/core/tokens';
import express from 'express';
import {
  check,
  fetchWithin,
  listen,
  redisForRun,
  type SnippetExports,
  serveJson,
  workDir,
} from '../support.js';

export const keyset = await JwtKeyset.generate('ES256');
process.env.JWT_KEYS_FILE = join(workDir, 'jwt-keys.json');
await writeJwtKeysetFile(process.env.JWT_KEYS_FILE, keyset);
const jwks = await serveJson(() => keyset.toJwks());
process.env.AUTH_JWKS_URL = `${jwks.url}/.well-known/jwks.json`;
process.env.JWT_SECRET = randomBytes(32).toString('base64url');

export const redis = redisForRun();
export const user = { id: 'user-42' };
export const app = express();

// What a client presents: tokens of the same issuer, audience and keys as the guide's service.
const issuer = createTokenService({
  keys: keyset,
  issuer: 'https://auth.example.com',
  audience: 'example-api',
  revocations: createRedisRevocationStore({ redis }),
});
const session = await issuer.issueTokenPair({ subject: user.id, claims: { role: 'nurse' } });
export const bearerToken = session.accessToken;
export const refreshToken = session.refreshToken;

export async function finish(_snippet: SnippetExports): Promise<void> {
  const server = createServer(app);
  try {
    const url = await listen(server);
    const response = await fetchWithin(`${url}/.well-known/jwks.json`);
    // 404: this snippet added no JWKS route. Anything else must be the key set.
    if (response.status !== 404) {
      check(response.status === 200, `GET /.well-known/jwks.json answered ${response.status}`);
      const body = (await response.json()) as { keys?: unknown[] };
      check(Array.isArray(body.keys) && body.keys.length > 0, 'the JWKS lists the public keys');
    }
  } finally {
    server.close();
    jwks.server.close();
    redis.disconnect();
  }
}
