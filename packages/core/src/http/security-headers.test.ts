import { createServer, IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { createHeaderApplier, nonceOf } from './apply-headers.js';
import {
  cspNonce,
  fastifySecurityHeaders,
  markSensitive,
  securityHeaders,
  securityHeadersOptionsFromEnv,
  withSecurityHeaders,
} from './index.js';

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The nonces a CSP header allows in `directive`. */
function noncesIn(csp: string | null, directive: string): string[] {
  const part = (csp ?? '').split(';').find((d) => d.trim().startsWith(`${directive} `)) ?? '';
  return [...part.matchAll(/'nonce-([A-Za-z0-9+/=]+)'/g)].map((m) => m[1] as string);
}

describe('securityHeaders on a real Express app', () => {
  it('sends HSTS, CSP with a fresh nonce per response, Permissions-Policy and helmet headers', async () => {
    const app = express();
    app.use(securityHeaders({ hsts: { maxAgeSeconds: 63_072_000, preload: true } }));
    app.get('/page', (_req, res) => {
      res.send(`<script nonce="${cspNonce(res)}">start()</script>`);
    });
    const url = await listening(createServer(app));
    const first = await fetch(`${url}/page`);
    const second = await fetch(`${url}/page`);
    expect(first.headers.get('strict-transport-security')).toBe(
      'max-age=63072000; includeSubDomains; preload',
    );
    const [scriptNonce] = noncesIn(first.headers.get('content-security-policy'), 'script-src');
    expect(scriptNonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(noncesIn(first.headers.get('content-security-policy'), 'style-src')).toEqual([
      scriptNonce,
    ]);
    expect(await first.text()).toBe(`<script nonce="${scriptNonce}">start()</script>`);
    expect(noncesIn(second.headers.get('content-security-policy'), 'script-src')).not.toEqual([
      scriptNonce,
    ]);
    expect(first.headers.get('permissions-policy')).toContain('camera=(), ');
    expect(first.headers.get('permissions-policy')).toContain('geolocation=()');
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    expect(first.headers.get('x-powered-by')).toBeNull();
    // Not marked sensitive: caching is left to the application.
    expect(first.headers.get('cache-control')).toBeNull();
  });

  it('sets no-store on responses marked sensitive, or on every one with noStore: all', async () => {
    const app = express();
    app.use(securityHeaders({ hsts: false, contentSecurityPolicy: false }));
    app.get('/public', (_req, res) => res.json({}));
    app.get('/key', (_req, res) => {
      markSensitive(res);
      res.json({});
    });
    const url = await listening(createServer(app));
    const plain = await fetch(`${url}/public`);
    expect(plain.headers.get('cache-control')).toBeNull();
    expect(plain.headers.get('strict-transport-security')).toBeNull();
    expect(plain.headers.get('content-security-policy')).toBeNull();
    expect((await fetch(`${url}/key`)).headers.get('cache-control')).toBe('no-store');

    const all = express();
    all.use(securityHeaders({ noStore: 'all' }));
    all.get('/', (_req, res) => res.json({}));
    const allUrl = await listening(createServer(all));
    expect((await fetch(allUrl)).headers.get('cache-control')).toBe('no-store');
  });

  it('allows what the permissions policy lists, quoting origins', async () => {
    const app = express();
    app.use(
      securityHeaders({
        permissionsPolicy: {
          camera: [],
          geolocation: ['self', '"https://maps.example"'],
          fullscreen: ['*'],
        },
      }),
    );
    app.get('/', (_req, res) => res.end());
    const url = await listening(createServer(app));
    expect((await fetch(url)).headers.get('permissions-policy')).toBe(
      'camera=(), geolocation=(self "https://maps.example"), fullscreen=*',
    );
  });
});

describe('fastifySecurityHeaders on a real Fastify app', () => {
  it('applies the same headers, and noStore: all wins over a handler', async () => {
    const app = Fastify();
    await app.register(fastifySecurityHeaders, {
      noStore: 'all',
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"] }, nonce: false },
    });
    app.get('/', async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=3600');
      return { ok: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none';/);
    expect(response.headers.get('content-security-policy')).not.toContain('nonce-');
    expect(response.headers.get('strict-transport-security')).toBe(
      'max-age=31536000; includeSubDomains',
    );
    expect(response.headers.get('permissions-policy')).toContain('microphone=()');
    // The 404 handler's answers get them too.
    const missing = await fetch(`http://127.0.0.1:${port}/nothing`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control')).toBe('no-store');
    expect(missing.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('marks one reply sensitive and exposes the nonce on the reply', async () => {
    const app = Fastify();
    await app.register(fastifySecurityHeaders, { hsts: false });
    app.get('/token', async (_request, reply) => {
      markSensitive(reply);
      return { nonce: cspNonce(reply) ?? null };
    });
    app.get('/public', async () => ({}));
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const token = await fetch(`http://127.0.0.1:${port}/token`);
    expect(token.headers.get('cache-control')).toBe('no-store');
    const { nonce } = (await token.json()) as { nonce: string };
    expect(noncesIn(token.headers.get('content-security-policy'), 'script-src')).toEqual([nonce]);
    const plain = await fetch(`http://127.0.0.1:${port}/public`);
    expect(plain.headers.get('cache-control')).toBeNull();
  });
});

describe('withSecurityHeaders on node:http', () => {
  it('sets the headers before the handler runs', async () => {
    const url = await listening(
      createServer(
        withSecurityHeaders((_req, res) => res.end(cspNonce(res)), {
          hsts: { maxAgeSeconds: 600, includeSubDomains: false },
        }),
      ),
    );
    const response = await fetch(url);
    expect(response.headers.get('strict-transport-security')).toBe('max-age=600');
    expect(noncesIn(response.headers.get('content-security-policy'), 'script-src')).toEqual([
      await response.text(),
    ]);
  });
});

describe('configuration', () => {
  it('reads HSTS from the environment', () => {
    expect(securityHeadersOptionsFromEnv({})).toEqual({
      hsts: { maxAgeSeconds: 31_536_000, includeSubDomains: true, preload: false },
    });
    expect(
      securityHeadersOptionsFromEnv({
        HSTS_MAX_AGE: '63072000',
        HSTS_INCLUDE_SUBDOMAINS: 'true',
        HSTS_PRELOAD: 'true',
      }),
    ).toEqual({ hsts: { maxAgeSeconds: 63_072_000, includeSubDomains: true, preload: true } });
    expect(
      securityHeadersOptionsFromEnv({ HSTS_MAX_AGE: '0', HSTS_INCLUDE_SUBDOMAINS: 'false' }),
    ).toEqual({
      hsts: { maxAgeSeconds: 0, includeSubDomains: false, preload: false },
    });
  });

  it('refuses at start-up a preload the preload list would reject, and bad values, all at once', () => {
    for (const env of [
      { HSTS_PRELOAD: 'true', HSTS_MAX_AGE: '86400' },
      { HSTS_PRELOAD: 'true', HSTS_INCLUDE_SUBDOMAINS: 'false' },
    ]) {
      expect(() => securityHeadersOptionsFromEnv(env)).toThrow(
        expect.objectContaining({
          code: 'ERR_SECRETS_INVALID',
          problems: [expect.objectContaining({ name: 'HSTS_PRELOAD' })],
        }),
      );
    }
    let thrown: unknown;
    try {
      securityHeadersOptionsFromEnv({
        HSTS_MAX_AGE: '1y',
        HSTS_INCLUDE_SUBDOMAINS: 'yes',
        HSTS_PRELOAD: 'TRUE',
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'ERR_SECRETS_INVALID' });
    expect((thrown as { problems: { name: string }[] }).problems.map((p) => p.name).sort()).toEqual(
      ['HSTS_INCLUDE_SUBDOMAINS', 'HSTS_MAX_AGE', 'HSTS_PRELOAD'],
    );
    expect(() => securityHeadersOptionsFromEnv({ HSTS_MAX_AGE: '-1' })).toThrow(
      /HSTS_MAX_AGE: must be a whole number/,
    );
    expect(() => securityHeadersOptionsFromEnv({ HSTS_MAX_AGE: '99999999999' })).toThrow(
      /HSTS_MAX_AGE/,
    );
  });

  it('refuses bad options when the middleware is built', () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => securityHeaders({ hsts: { preload: true, maxAgeSeconds: 300 } })).toThrow(invalid);
    expect(() => securityHeaders({ hsts: { preload: true, includeSubDomains: false } })).toThrow(
      /preload needs/,
    );
    expect(() => securityHeaders({ hsts: { maxAgeSeconds: 1.5 } })).toThrow(invalid);
    expect(() => securityHeaders({ permissionsPolicy: { 'camera; x': [] } })).toThrow(invalid);
    expect(() => securityHeaders({ permissionsPolicy: { camera: ['https://a.example'] } })).toThrow(
      /quoted origins/,
    );
    expect(() =>
      securityHeaders({ contentSecurityPolicy: { directives: { scriptSrc: ["'self';"] } } }),
    ).toThrow(invalid);
    expect(() => securityHeaders({ noStore: 'never' as 'all' })).toThrow(invalid);
    expect(() => markSensitive({} as never)).toThrow(invalid);
  });
});

describe('the header applier', () => {
  const responseWith = (apply: ReturnType<typeof createHeaderApplier>) => {
    const req = new IncomingMessage(new Socket());
    const res = new ServerResponse(req);
    res.setHeader('x-powered-by', 'Express');
    apply(req, res);
    return res;
  };

  it('sets what helmet sets, computed once, with a fresh nonce per response and nothing else changing', () => {
    const apply = createHeaderApplier({ hsts: { maxAgeSeconds: 600 } });
    const first = responseWith(apply);
    const second = responseWith(apply);
    const nonce = nonceOf(first) as string;
    expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(nonceOf(second)).not.toBe(nonce);
    const csp = (res: ServerResponse) =>
      String(res.getHeader('content-security-policy')).replaceAll(nonceOf(res) as string, 'N');
    expect(csp(first)).toBe(
      "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self' 'nonce-N';script-src-attr 'none';style-src 'self' 'nonce-N';upgrade-insecure-requests",
    );
    expect(csp(second)).toBe(csp(first));
    const { 'content-security-policy': _first, ...rest } = first.getHeaders();
    const { 'content-security-policy': _second, ...restOfSecond } = second.getHeaders();
    expect(restOfSecond).toEqual(rest);
    expect(rest).toEqual({
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      'origin-agent-cluster': '?1',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=600; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-dns-prefetch-control': 'off',
      'x-download-options': 'noopen',
      'x-frame-options': 'SAMEORIGIN',
      'x-permitted-cross-domain-policies': 'none',
      'x-xss-protection': '0',
      'permissions-policy': expect.stringMatching(/^accelerometer=\(\), camera=\(\), /),
    });
  });

  it('never gives two responses one nonce, across blocks of the pool', () => {
    const apply = createHeaderApplier();
    const seen = new Set<string>();
    // 6,144-byte blocks of 16-byte nonces: 2,000 responses span more than five blocks.
    for (let i = 0; i < 2000; i++) {
      const res = responseWith(apply);
      const nonce = nonceOf(res) as string;
      expect(String(res.getHeader('content-security-policy'))).toContain(`'nonce-${nonce}'`);
      seen.add(nonce);
    }
    expect(seen.size).toBe(2000);
  });

  it('refuses at start-up what would fail or loosen the policy per response', () => {
    const invalid = expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' });
    // A line break, or a character beyond Latin-1, that Node's setHeader refuses on every
    // response (withSecurityHeaders would crash on the first request), in any directive.
    for (const bad of ["'self'\nhttps://x.example", 'https://\u010A.example', "'self'\r"])
      for (const directive of ['imgSrc', 'script-src', 'connectSrc'])
        expect(() =>
          createHeaderApplier({ contentSecurityPolicy: { directives: { [directive]: [bad] } } }),
        ).toThrow(invalid);
    // The header's name is in the message, the directive's text is not.
    expect(() =>
      createHeaderApplier({
        contentSecurityPolicy: { nonce: false, directives: { imgSrc: ['canary-9f2c\n'] } },
      }),
    ).toThrow(/^security headers: .*Content-Security-Policy(?![\s\S]*canary)/);
    // A string would be read character by character (a lone `*` allows any host); a function
    // would run once, at start-up, not per response.
    for (const bad of ['https://*.example.com', () => "'self'", ["'self'", 42], { a: 'b' }])
      for (const nonce of [true, false])
        expect(() =>
          createHeaderApplier({
            contentSecurityPolicy: { nonce, directives: { scriptSrc: bad as never } },
          }),
        ).toThrow(/contentSecurityPolicy\.directives\.scriptSrc must be an array of strings/);
    expect(() =>
      createHeaderApplier({ contentSecurityPolicy: { directives: 'x' as never } }),
    ).toThrow(invalid);
    // Latin-1 text is a header's own charset: accepted as before.
    expect(() =>
      createHeaderApplier({
        contentSecurityPolicy: { directives: { imgSrc: ['h\u00e9.example'] } },
      }),
    ).not.toThrow();
  });

  it('leaves a script-src or style-src removed with null removed, nonce or not', () => {
    for (const nonce of [true, false]) {
      const apply = createHeaderApplier({
        contentSecurityPolicy: { nonce, directives: { scriptSrc: null, 'style-src': null } },
      });
      const csp = String(responseWith(apply).getHeader('content-security-policy'));
      expect(csp).toMatch(/^default-src 'self';/);
      expect(csp).not.toMatch(/script-src |style-src |nonce-/);
      expect(csp).toContain("script-src-attr 'none'");
    }
  });

  it('adds no nonce to a script-src or style-src that allows nothing', () => {
    // `'none'` is ignored beside any other source: a nonce would turn "no scripts" into "the
    // scripts with this response's nonce".
    for (const nothing of [
      ["'none'"],
      [" 'NONE' "],
      [],
      [''],
      [' '],
      ["'none'", ''],
      ["'none' 'none'"],
      ["'none'\t'none'"],
      ["'none'", "'report-sample'"],
      ["'none'", "'wasm-unsafe-eval'"],
    ]) {
      const apply = createHeaderApplier({
        contentSecurityPolicy: { directives: { scriptSrc: nothing, 'style-src': nothing } },
      });
      const res = responseWith(apply);
      const csp = String(res.getHeader('content-security-policy'));
      expect(noncesIn(csp, 'script-src'), JSON.stringify(nothing)).toEqual([]);
      expect(noncesIn(csp, 'style-src'), JSON.stringify(nothing)).toEqual([]);
      expect(csp).not.toContain('nonce-');
    }
  });

  it("adds the nonce to a list without 'none': a strict policy of nonces and strict-dynamic", () => {
    const apply = createHeaderApplier({
      contentSecurityPolicy: { directives: { scriptSrc: ["'strict-dynamic'"] } },
    });
    const res = responseWith(apply);
    expect(String(res.getHeader('content-security-policy'))).toContain(
      `;script-src 'strict-dynamic' 'nonce-${nonceOf(res) as string}';`,
    );
  });

  it('reads each option once: what is checked is what is sent', () => {
    // A getter, a Proxy or an array's own methods could pass the checks with one value and
    // give helmet another (a string read character by character, a smuggled directive).
    let reads = 0;
    const directives = {
      get scriptSrc() {
        reads += 1;
        return reads === 1 ? ["'self'"] : 'https://*.example.com';
      },
    };
    const fromGetter = createHeaderApplier({
      contentSecurityPolicy: { directives: directives as never },
    });
    expect(reads).toBe(1);
    expect(String(responseWith(fromGetter).getHeader('content-security-policy'))).toMatch(
      /;script-src 'self' 'nonce-[^']+';/,
    );
    let joined = 0;
    const smuggling = new Proxy(["'self'"], {
      get(target, key, receiver) {
        // After its first reading, the entry grows a second directive.
        if (key === '0' && joined++ > 0) return "'self'; script-src * 'unsafe-inline'";
        return Reflect.get(target, key, receiver);
      },
    });
    const fromProxy = createHeaderApplier({
      contentSecurityPolicy: { nonce: false, directives: { imgSrc: smuggling } },
    });
    expect(String(responseWith(fromProxy).getHeader('content-security-policy'))).toContain(
      ";img-src 'self';",
    );
    const lying = Object.assign(["'self'", 42], { some: () => false });
    const sparse: string[] = [];
    sparse[1] = "'self'";
    for (const bad of [lying, sparse])
      expect(() =>
        createHeaderApplier({ contentSecurityPolicy: { directives: { imgSrc: bad as never } } }),
      ).toThrow(/contentSecurityPolicy\.directives\.imgSrc must be an array of strings/);
    let nonceReads = 0;
    const csp = {
      directives: {},
      get nonce() {
        nonceReads += 1;
        return nonceReads === 1;
      },
    };
    const once = createHeaderApplier({ contentSecurityPolicy: csp });
    const res = responseWith(once);
    expect(nonceReads).toBe(1);
    expect(String(res.getHeader('content-security-policy'))).toContain(
      `'nonce-${nonceOf(res) as string}'`,
    );
    expect(() => createHeaderApplier({ contentSecurityPolicy: { nonce: 'yes' as never } })).toThrow(
      /contentSecurityPolicy\.nonce must be true or false/,
    );
  });

  it('names a directive helmet refuses, never quoting its sources', () => {
    const canary = 'CANARY7f3a';
    for (const source of [
      `nonce-${canary}`,
      `sha256-${canary}`,
      'self',
      `${canary};`,
      `${canary},`,
    ]) {
      let message = '';
      try {
        createHeaderApplier({ contentSecurityPolicy: { directives: { imgSrc: [source] } } });
      } catch (err) {
        message = `${(err as Error).message}\n${(err as Error).stack}`;
      }
      expect(message, source).toMatch(/^contentSecurityPolicy\.directives\.imgSrc is refused: /);
      expect(message, source).not.toContain(canary);
    }
    // Nor do helmet's other options, or a permissions policy's feature that is not one.
    for (const helmet of [
      { referrerPolicy: { policy: canary as never } },
      { xFrameOptions: { action: canary as never } },
      { crossOriginOpenerPolicy: { policy: canary as never } },
    ]) {
      expect(() => createHeaderApplier({ helmet }), JSON.stringify(helmet)).toThrow(
        /^security headers: (?![\s\S]*CANARY)/,
      );
    }
    expect(() => createHeaderApplier({ permissionsPolicy: { [`${canary}_x`]: [] } })).toThrow(
      /^permissionsPolicy: \(a name that is none\) is not a feature name/,
    );
    // A name that is not one is not repeated either.
    expect(() =>
      createHeaderApplier({
        contentSecurityPolicy: { directives: { [`img_${canary}`]: ["'self'"] } },
      }),
    ).toThrow(
      /^contentSecurityPolicy\.directives\.\(a name that is none\) is refused(?![\s\S]*CANARY)/,
    );
    // JSON configuration: `__proto__` is a key there, and stays one.
    expect(() =>
      createHeaderApplier({
        contentSecurityPolicy: { directives: JSON.parse('{"__proto__": ["\'self\'"]}') },
      }),
    ).toThrow(/^contentSecurityPolicy\.directives\.\(a name that is none\) is refused/);
    expect(() =>
      createHeaderApplier({ contentSecurityPolicy: { directives: { defaultSrc: null } } }),
    ).toThrow('contentSecurityPolicy.directives.defaultSrc cannot be removed');
    expect(() =>
      createHeaderApplier({
        contentSecurityPolicy: { directives: { scriptSrc: ["'self'"], 'script-src': null } },
      }),
    ).toThrow(/is given twice \(camelCase and kebab-case\)/);
  });

  it('without nonces or CSP, sets the same text on every response', () => {
    const noNonce = createHeaderApplier({ contentSecurityPolicy: { nonce: false } });
    const [a, b] = [responseWith(noNonce), responseWith(noNonce)];
    expect(nonceOf(a)).toBeUndefined();
    expect(a.getHeader('content-security-policy')).toBe(b.getHeader('content-security-policy'));
    expect(String(a.getHeader('content-security-policy'))).not.toContain('nonce-');
    const noCsp = createHeaderApplier({ contentSecurityPolicy: false, noStore: 'all' });
    const c = responseWith(noCsp);
    expect(c.getHeader('content-security-policy')).toBeUndefined();
    expect(c.getHeader('cache-control')).toBe('no-store');
    expect(c.getHeader('x-powered-by')).toBeUndefined();
  });
});
