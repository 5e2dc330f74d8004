import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import {
  clearSessionCookie,
  readSessionCookie,
  serializeSessionCookie,
  sessionCookieOptionsFromEnv,
  setSessionCookie,
} from './index.js';

const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

describe('serializeSessionCookie', () => {
  it('writes SameSite=None with Secure, and leaves out HttpOnly only when asked', () => {
    expect(serializeSessionCookie('s', 'v', { sameSite: 'none', httpOnly: false })).toBe(
      's=v; Path=/; Secure; SameSite=None',
    );
  });

  it('is HttpOnly, Secure and SameSite=Strict by default', () => {
    expect(
      serializeSessionCookie('session', token, { maxAgeSeconds: 900, environment: 'production' }),
    ).toBe(`session=${token}; Max-Age=900; Path=/; HttpOnly; Secure; SameSite=Strict`);
    expect(
      serializeSessionCookie('session', token, { environment: undefined as unknown as string }),
    ).toContain('Secure');
  });

  it('drops Secure only in development, allows Lax, and names __Host- cookies', () => {
    expect(serializeSessionCookie('s', 'v', { environment: 'development', sameSite: 'lax' })).toBe(
      's=v; Path=/; HttpOnly; SameSite=Lax',
    );
    expect(serializeSessionCookie('s', 'v', { environment: 'test' })).toContain('; Secure');
    expect(serializeSessionCookie('s', 'v', { hostPrefix: true, environment: 'development' })).toBe(
      '__Host-s=v; Path=/; HttpOnly; Secure; SameSite=Strict',
    );
    expect(serializeSessionCookie('s', 'v', { domain: 'example.com', path: '/app' })).toContain(
      'Domain=example.com; Path=/app;',
    );
  });

  it('refuses what would break the header or the __Host- rules, without echoing the value', () => {
    const canary = 'CANARY value; Path=/evil';
    expect(() => serializeSessionCookie('s', canary)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/^the value of cookie "s" is not cookie-safe/),
      }),
    );
    expect(() => serializeSessionCookie('s', canary)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('CANARY') }),
    );
    expect(() => serializeSessionCookie('bad name', 'v')).toThrow(/HTTP token/);
    expect(() =>
      serializeSessionCookie('s', 'v', { hostPrefix: true, domain: 'example.com' }),
    ).toThrow(/__Host-/);
    expect(() => serializeSessionCookie('s', 'v', { hostPrefix: true, secure: false })).toThrow(
      /__Host-/,
    );
    expect(() => serializeSessionCookie('s', 'v', { sameSite: 'bogus' as 'lax' })).toThrow(
      /sameSite/,
    );
    expect(() => serializeSessionCookie('s', 'v', { sameSite: 'none', secure: false })).toThrow(
      /SameSite=None needs Secure/,
    );
    expect(() =>
      serializeSessionCookie('s', 'v', { sameSite: 'none', environment: 'development' }),
    ).toThrow(/SameSite=None needs Secure/);
    expect(() => serializeSessionCookie('s', 'v', { httpOnly: 'no' as never })).toThrow(/httpOnly/);
    expect(() => serializeSessionCookie('s', 'v', { domain: 'a.com; Secure' })).toThrow(/domain/);
    expect(() => serializeSessionCookie('s', 'v', { maxAgeSeconds: -1 })).toThrow(/maxAgeSeconds/);
  });
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('on real servers', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('node:http: appends to existing Set-Cookie headers and reads the cookie back', async () => {
    const seen: (string | undefined)[] = [];
    const { url, close } = await listen((req, res) => {
      seen.push(readSessionCookie(req, 'session', { hostPrefix: true }));
      res.setHeader('set-cookie', 'theme=dark');
      setSessionCookie(res, 'session', token, { hostPrefix: true, maxAgeSeconds: 900 });
      clearSessionCookie(res, 'old');
      res.end('ok');
    });
    closers.push(close);
    const response = await fetch(url, { headers: { cookie: `a=1; __Host-session=${token}; b=2` } });
    expect(response.headers.getSetCookie()).toEqual([
      'theme=dark',
      `__Host-session=${token}; Max-Age=900; Path=/; HttpOnly; Secure; SameSite=Strict`,
      'old=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict',
    ]);
    expect(seen).toEqual([token]);
  });

  it('Express: coexists with res.cookie and res.append, and reads the cookie back', async () => {
    const app = express();
    app.get('/', (req, res) => {
      res.cookie('csrf', 'abc', { path: '/' }); // Express's own cookie helper (res.append inside)
      setSessionCookie(res, 'session', token, { sameSite: 'lax', maxAgeSeconds: 900 });
      res.append('Set-Cookie', 'after=1');
      clearSessionCookie(res, 'old', { sameSite: 'lax' });
      res.json({ read: readSessionCookie(req, 'session') ?? null });
    });
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { cookie: `a=1; session=${token}` },
    });
    expect(response.headers.getSetCookie()).toEqual([
      'csrf=abc; Path=/',
      `session=${token}; Max-Age=900; Path=/; HttpOnly; Secure; SameSite=Lax`,
      'after=1',
      'old=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax',
    ]);
    expect(await response.json()).toEqual({ read: token });
  });

  it('Fastify: uses reply.header and keeps other cookies', async () => {
    const app = Fastify();
    app.get('/', async (request, reply) => {
      reply.header('set-cookie', 'theme=dark');
      setSessionCookie(reply, 'session', token, { hostPrefix: true });
      return { read: readSessionCookie(request, 'session', { hostPrefix: true }) ?? null };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const { port } = app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { cookie: `__Host-session=${token}` },
    });
    expect(response.headers.getSetCookie()).toEqual([
      'theme=dark',
      `__Host-session=${token}; Path=/; HttpOnly; Secure; SameSite=Strict`,
    ]);
    expect(await response.json()).toEqual({ read: token });
  });

  it('refuses something that is not a response', () => {
    expect(() => setSessionCookie({} as never, 's', 'v')).toThrow(/ServerResponse/);
    expect(readSessionCookie(undefined, 's')).toBeUndefined();
    expect(readSessionCookie('s=1; t=2', 't')).toBe('2');
  });
});

describe('sessionCookieOptionsFromEnv', () => {
  const problemNames = (env: Record<string, string>) => {
    try {
      sessionCookieOptionsFromEnv(env);
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_SECRETS_INVALID' });
      return (err as { problems: { name: string }[] }).problems.map((p) => p.name).sort();
    }
    return [];
  };

  it('uses __Host- when the settings allow it, and the safe defaults otherwise', () => {
    const defaults = sessionCookieOptionsFromEnv({ NODE_ENV: 'production' });
    expect(defaults).toEqual({
      secure: true,
      httpOnly: true,
      sameSite: 'strict',
      hostPrefix: true,
    });
    expect(serializeSessionCookie('session', 'v', defaults)).toBe(
      '__Host-session=v; Path=/; HttpOnly; Secure; SameSite=Strict',
    );
    expect(readSessionCookie('__Host-session=v', 'session', defaults)).toBe('v');
    // No NODE_ENV: Secure, as serializeSessionCookie decides.
    expect(sessionCookieOptionsFromEnv({}).secure).toBe(true);
    const withDomain = sessionCookieOptionsFromEnv({
      COOKIE_DOMAIN: 'example.com',
      COOKIE_SAME_SITE: 'Lax',
      COOKIE_MAX_AGE: '3600',
      COOKIE_HTTP_ONLY: 'false',
    });
    expect(withDomain).toEqual({
      secure: true,
      httpOnly: false,
      sameSite: 'lax',
      domain: 'example.com',
      hostPrefix: false,
      maxAgeSeconds: 3600,
    });
    expect(serializeSessionCookie('session', 'v', withDomain)).toBe(
      'session=v; Max-Age=3600; Domain=example.com; Path=/; Secure; SameSite=Lax',
    );
    const development = sessionCookieOptionsFromEnv({ NODE_ENV: 'development' });
    expect(development).toMatchObject({ secure: false, hostPrefix: false });
    expect(serializeSessionCookie('s', 'v', development)).toBe(
      's=v; Path=/; HttpOnly; SameSite=Strict',
    );
    expect(sessionCookieOptionsFromEnv({ COOKIE_SAME_SITE: 'none' })).toMatchObject({
      sameSite: 'none',
      secure: true,
    });
  });

  it('refuses SameSite=None without Secure and every other bad setting, all at once', () => {
    expect(problemNames({ COOKIE_SAME_SITE: 'none', COOKIE_SECURE: 'false' })).toEqual([
      'COOKIE_SAME_SITE',
    ]);
    expect(problemNames({ COOKIE_SAME_SITE: 'None', NODE_ENV: 'development' })).toEqual([
      'COOKIE_SAME_SITE',
    ]);
    expect(problemNames({ COOKIE_SECURE: 'false', NODE_ENV: 'production' })).toEqual([
      'COOKIE_SECURE',
    ]);
    expect(
      problemNames({
        COOKIE_SECURE: 'yes',
        COOKIE_HTTP_ONLY: '1',
        COOKIE_SAME_SITE: 'strictest',
        COOKIE_DOMAIN: 'a.com; Secure',
        COOKIE_MAX_AGE: '15m',
      }),
    ).toEqual([
      'COOKIE_DOMAIN',
      'COOKIE_HTTP_ONLY',
      'COOKIE_MAX_AGE',
      'COOKIE_SAME_SITE',
      'COOKIE_SECURE',
    ]);
    expect(problemNames({ COOKIE_MAX_AGE: String(401 * 24 * 3600) })).toEqual(['COOKIE_MAX_AGE']);
  });
});
