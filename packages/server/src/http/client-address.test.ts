import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';
import { clientAddressOf } from './boundary.js';
import { blocksWithin, cidrList, clientAddress, normalizeAddress } from './client-address.js';

describe('client addresses and CIDR blocks', () => {
  it('reads IPv4-mapped IPv6 as IPv4, in any case, and refuses what is no address', () => {
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress(' 2001:DB8::1 ')).toBe('2001:db8::1');
    for (const bad of ['', 'localhost', '1.2.3', '127.0.0.1/8', '::ffff:999.0.0.1', undefined])
      expect(normalizeAddress(bad)).toBeUndefined();
  });

  it('matches blocks whatever the spelling of the address', () => {
    const list = cidrList(['127.0.0.1/32', '10.0.0.0/8', '2001:db8::/32'], 'token_bound_cidrs');
    for (const inside of ['127.0.0.1', '::ffff:127.0.0.1', '10.255.0.1', '2001:DB8::5'])
      expect(list.has(inside)).toBe(true);
    for (const outside of [
      '127.0.0.2',
      '::ffff:127.0.0.2',
      '11.0.0.1',
      '::1',
      'nonsense',
      undefined,
    ])
      expect(list.has(outside)).toBe(false);
    // A bare address is its own /32 (or /128).
    expect(cidrList(['192.0.2.7'], 'x').has('192.0.2.7')).toBe(true);
    expect(cidrList(['192.0.2.7'], 'x').has('192.0.2.8')).toBe(false);
  });

  it('refuses malformed blocks, naming the setting', () => {
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/8/1',
      'ten/8',
      '10.0.0.0/-1',
      '10.0.0.0/',
    ])
      expect(() => cidrList([bad], 'secret_id_bound_cidrs')).toThrow(/^secret_id_bound_cidrs: /);
  });

  it('ignores X-Forwarded-For unless the peer is a trusted proxy', () => {
    const none = cidrList([], 'trustedProxies');
    expect(clientAddress('::ffff:192.0.2.1', '10.0.0.1', none)).toBe('192.0.2.1');
    const proxies = cidrList(['127.0.0.1/32', '172.16.0.0/12'], 'trustedProxies');
    // An untrusted peer cannot claim an address.
    expect(clientAddress('192.0.2.1', '127.0.0.1', proxies)).toBe('192.0.2.1');
    // A trusted peer: the rightmost entry that is not a trusted proxy, spoofed entries left of it
    // ignored.
    expect(clientAddress('::ffff:127.0.0.1', '10.9.9.9, 198.51.100.4, 172.16.0.2', proxies)).toBe(
      '198.51.100.4',
    );
    expect(clientAddress('127.0.0.1', ['10.9.9.9', '198.51.100.4'], proxies)).toBe('198.51.100.4');
    expect(clientAddress('127.0.0.1', undefined, proxies)).toBe('127.0.0.1');
    // A malformed hop: the client cannot be known.
    expect(clientAddress('127.0.0.1', '10.0.0.1, not-an-ip', proxies)).toBeUndefined();
  });

  it('tells whether blocks lie within others', () => {
    expect(blocksWithin(['10.1.0.0/16', '10.2.3.4'], ['10.0.0.0/8'])).toBe(true);
    expect(blocksWithin(['::ffff:127.0.0.1'], ['127.0.0.0/8'])).toBe(true);
    expect(blocksWithin([], ['10.0.0.0/8'])).toBe(true);
    for (const wider of [
      ['0.0.0.0/0'],
      ['10.0.0.0/7'],
      ['11.0.0.0/16'],
      ['10.0.0.0/8', '12.0.0.1'],
    ])
      expect(blocksWithin(wider, ['10.0.0.0/8']), wider.join()).toBe(false);
    expect(blocksWithin(['::/0'], ['0.0.0.0/0'])).toBe(false);
  });
});

describe('the client address the boundary admits a request from', () => {
  it('is unknown, not an error, on a request the boundary never admitted', () => {
    // Fastify gives every request the decorated `custos: null` before any hook runs.
    const unseen = { custos: null } as unknown as FastifyRequest;
    expect(clientAddressOf(unseen)).toBeUndefined();
    const admitted = { custos: { clientAddress: '192.0.2.9' } } as unknown as FastifyRequest;
    expect(clientAddressOf(admitted)).toBe('192.0.2.9');
  });

  it('is the peer, or the address a trusted proxy forwards: a bound token is judged by it', async () => {
    const start = (trustedProxies: string[]) => startTestServer('sqlite', { trustedProxies });
    const direct = await start([]);
    const proxied = await start(['127.0.0.0/8']);
    try {
      for (const s of [direct, proxied]) {
        await s.request('POST', 'auth/token/roles/remote', {
          body: { token_bound_cidrs: ['10.0.0.0/8'] },
        });
      }
      const tokenOf = async (s: TestServer) =>
        (await s.request('POST', 'auth/token/create/remote', { body: {} })).body.auth
          .client_token as string;
      const lookup = (s: TestServer, token: string, forwarded: string) =>
        send(s.url, 'GET', 'auth/token/lookup-self', {
          token,
          headers: { 'x-forwarded-for': forwarded },
        });
      expect((await lookup(proxied, await tokenOf(proxied), '10.1.1.1')).status).toBe(200);
      expect((await lookup(proxied, await tokenOf(proxied), '192.0.2.1')).status).toBe(403);
      expect((await lookup(direct, await tokenOf(direct), '10.1.1.1')).status).toBe(403);
    } finally {
      await direct.close();
      await proxied.close();
    }
  });
});
