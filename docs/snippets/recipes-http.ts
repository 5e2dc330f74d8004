/**
 * The checks every HTTP recipe (Express, Fastify, NestJS) must pass, over real HTTP: the JWKS,
 * a login that sets the `__Host-session` cookie, `/me` with the cookie and with the bearer
 * token, a refresh, and 401 for a wrong password, a missing token and a forged one.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { hashPassword } from '@custos/core/passwords';
import { JwtKeyset, writeJwtKeysetFile } from '@custos/core/tokens';
import { REDIS_URL } from '@custos/test-support/services';
import { check, fetchWithin, workDir } from './support.js';

/** The user the recipes' `findUserByEmail` knows. */
export const recipeUser = {
  id: 'user-42',
  email: 'nurse@example.com',
  password: randomBytes(12).toString('hex'),
};

/** Writes the keyset file and sets what the recipes read from the environment. */
export async function prepareRecipeEnvironment(): Promise<{ baseUrl: string }> {
  process.env.JWT_KEYS_FILE = join(workDir, 'jwt-keys.json');
  await writeJwtKeysetFile(process.env.JWT_KEYS_FILE, await JwtKeyset.generate('ES256'));
  process.env.REDIS_URL = REDIS_URL;
  process.env.REDIS_KEY_PREFIX = process.env.CUSTOS_DOCS_REDIS_PREFIX ?? 'custos-docs:';
  const port = await freePort();
  process.env.PORT = String(port);
  return { baseUrl: `http://127.0.0.1:${port}` };
}

/** The recipes' data access: the one user, with an Argon2id hash of its password. */
export function userDirectory(): (
  email: string,
) => Promise<{ id: string; passwordHash: string } | undefined> {
  const hash = hashPassword(recipeUser.password);
  return async (email) =>
    email === recipeUser.email ? { id: recipeUser.id, passwordHash: await hash } : undefined;
}

/** Runs the checks against a recipe's server at `baseUrl` (retrying the first connection). */
export async function checkRecipeServer(baseUrl: string): Promise<void> {
  await waitForServer(baseUrl);
  const jwks = await fetchWithin(`${baseUrl}/.well-known/jwks.json`);
  check(jwks.status === 200, `JWKS: ${jwks.status}`);
  check(((await jwks.json()) as { keys: unknown[] }).keys.length === 1, 'JWKS has the key');

  const wrong = await post(baseUrl, '/login', { email: recipeUser.email, password: 'wrong' });
  check(wrong.status === 401, `wrong password: ${wrong.status}`);

  const login = await post(baseUrl, '/login', {
    email: recipeUser.email,
    password: recipeUser.password,
  });
  check(login.status === 200, `login: ${login.status} ${await login.clone().text()}`);
  const setCookie = login.headers.get('set-cookie') ?? '';
  check(/^__Host-session=[^;]+;.*HttpOnly.*Secure.*SameSite=Strict/i.test(setCookie), setCookie);
  const session = setCookie.split(';')[0] ?? '';
  const { accessToken, refreshToken } = (await login.json()) as Record<string, string>;

  const presented: Record<string, string>[] = [
    { cookie: session },
    { authorization: `Bearer ${accessToken}` },
  ];
  for (const headers of presented) {
    const me = await fetchWithin(`${baseUrl}/me`, { headers });
    check(me.status === 200, `/me: ${me.status}`);
    check(((await me.json()) as { subject: string }).subject === recipeUser.id, '/me subject');
  }
  const none = await fetchWithin(`${baseUrl}/me`);
  check(none.status === 401, `/me without a token: ${none.status}`);
  const forged = await fetchWithin(`${baseUrl}/me`, {
    headers: { authorization: `Bearer ${accessToken?.slice(0, -4)}AAAA` },
  });
  check(forged.status === 401, `/me with a forged token: ${forged.status}`);

  const refreshed = await post(baseUrl, '/refresh', { refreshToken });
  check(refreshed.status === 200, `refresh: ${refreshed.status}`);
  const reused = await post(baseUrl, '/refresh', { refreshToken });
  check(reused.status === 401, `a reused refresh token: ${reused.status}`);
}

function post(baseUrl: string, path: string, body: unknown): Promise<Response> {
  return fetchWithin(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Waits until a server answers at `baseUrl` (any status), retrying for about ten seconds. */
export async function waitForServer(baseUrl: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(`${baseUrl}/.well-known/jwks.json`);
      return;
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A free loopback port (for an example that listens on `process.env.PORT`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
