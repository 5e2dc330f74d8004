/**
 * docs/recipes/nextjs.md: the keyset file, Redis and the JWKS URL the handlers read from the
 * environment, and `findUserByEmail`. `finish` calls the exported handlers with real
 * `NextRequest`s: the session route (log in, read the session, log out, a revoked session) or
 * the Edge verifier (a good token, a forged one). The process then exits: the route module
 * keeps its Redis connection, as in a running server.
 */
import {
  createRedisRevocationStore,
  createTokenService,
  readJwtKeysetFile,
} from '@custos/core/tokens';
import { Redis } from 'ioredis';
import { NextRequest } from 'next/server.js';
import { prepareRecipeEnvironment, recipeUser, userDirectory } from '../../recipes-http.js';
import { check, type SnippetExports, serveJson } from '../../support.js';

await prepareRecipeEnvironment();
const keys = await readJwtKeysetFile(process.env.JWT_KEYS_FILE ?? '');
const jwks = await serveJson(() => keys.toJwks());
process.env.AUTH_JWKS_URL = `${jwks.url}/.well-known/jwks.json`;
export const findUserByEmail = userDirectory();

type Handler = (request: NextRequest) => Promise<Response>;
const url = 'http://localhost:3000/api/session';

export async function finish(snippet: SnippetExports): Promise<void> {
  const POST = snippet.POST as Handler | undefined;
  const GET = snippet.GET as Handler;
  const DELETE = snippet.DELETE as Handler | undefined;
  const withCookie = (cookie: string) => new NextRequest(url, { headers: { cookie } });
  if (POST && DELETE) {
    const wrong = await POST(login('wrong'));
    check(wrong.status === 401, `wrong password: ${wrong.status}`);
    const ok = await POST(login(recipeUser.password));
    check(ok.status === 200, `login: ${ok.status}`);
    const session = (ok.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    check(session.startsWith('__Host-session='), `cookie: ${session}`);
    const me = await GET(withCookie(session));
    check(me.status === 200, `session: ${me.status}`);
    check(((await me.json()) as { subject: string }).subject === recipeUser.id, 'subject');
    check((await GET(new NextRequest(url))).status === 401, 'no cookie is 401');
    check((await DELETE(withCookie(session))).status === 204, 'log out');
    check((await GET(withCookie(session))).status === 401, 'a logged-out session is 401');
  } else {
    const redis = new Redis(process.env.REDIS_URL ?? '', {
      keyPrefix: process.env.REDIS_KEY_PREFIX ?? '',
    });
    const service = createTokenService({
      keys,
      issuer: 'https://web.example.com',
      audience: 'example-web',
      revocations: createRedisRevocationStore({ redis }),
    });
    const { accessToken } = await service.issueTokenPair({ subject: recipeUser.id });
    const good = await GET(withCookie(`__Host-session=${accessToken}`));
    check(good.status === 200, `edge verify: ${good.status}`);
    const forged = await GET(withCookie(`__Host-session=${accessToken.slice(0, -4)}AAAA`));
    check(forged.status === 401, `edge verify of a forged token: ${forged.status}`);
  }
  process.exit(0);
}

function login(password: string): NextRequest {
  return new NextRequest(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: recipeUser.email, password }),
  });
}
