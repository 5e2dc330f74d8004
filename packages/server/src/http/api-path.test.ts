import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { apiPathOf, MAX_PATH_LENGTH, patternReading } from './api-path.js';

// The one reading of a request path, on requests as the router hands them over: the literal
// target, the matched route pattern (none when unrouted) and the parameters it filled in.
function request(url: string, route?: string, params: Record<string, string> = {}): FastifyRequest {
  return { url, routeOptions: { url: route }, params } as unknown as FastifyRequest;
}

const refusal = (message: string) =>
  expect.objectContaining({ code: 'ERR_INVALID_REQUEST', message });

describe('the API path of a request', () => {
  it('is the decoded path after /v1/, without the query, when the router reads it the same', () => {
    expect(
      apiPathOf(request('/v1/secret/data/app?version=2', '/v1/secret/data/*', { '*': 'app' })),
    ).toBe('secret/data/app');
    expect(
      apiPathOf(request('/v1/transit/keys/my%20key', '/v1/transit/keys/:name', { name: 'my key' })),
    ).toBe('transit/keys/my key');
    // A listing keeps its trailing slash; an unrouted request has only the literal reading.
    expect(apiPathOf(request('/v1/secret/metadata/'))).toBe('secret/metadata/');
    expect(apiPathOf(request('/v1/sys/seal-status', '/v1/sys/seal-status'))).toBe(
      'sys/seal-status',
    );
  });

  it('refuses targets that are not a plain path under /v1/', () => {
    expect(() => apiPathOf(request('/v2/secret'))).toThrow(
      refusal('the request path must start with /v1/'),
    );
    expect(() => apiPathOf(request('http://host/v1/secret'))).toThrow(
      refusal('the request path must start with /v1/'),
    );
    expect(() => apiPathOf(request('/v1/sys/seal#x'))).toThrow(
      refusal("'#' is not allowed in a request (encode it as %23 if it is part of a name)"),
    );
    expect(() => apiPathOf(request('/v1/a?b#c'))).toThrow(
      refusal("'#' is not allowed in a request (encode it as %23 if it is part of a name)"),
    );
    expect(() => apiPathOf(request('/v1/secret;x'))).toThrow(
      refusal("';' is not allowed in a request path (encode it as %3B if it is part of a name)"),
    );
    // In the query a ';' is no part of the path.
    expect(apiPathOf(request('/v1/secret?a=1;b=2'))).toBe('secret');
    expect(() => apiPathOf(request('/v1/secret/%E0%A4%A'))).toThrow(
      refusal('malformed URL encoding in path'),
    );
  });

  it(`takes paths up to ${MAX_PATH_LENGTH} characters, and no control character`, () => {
    const longest = 'a'.repeat(MAX_PATH_LENGTH);
    expect(apiPathOf(request(`/v1/${longest}`))).toBe(longest);
    expect(() => apiPathOf(request(`/v1/${longest}b`))).toThrow(
      refusal(`path longer than ${MAX_PATH_LENGTH} characters`),
    );
    for (const control of ['%00', '%1F', '%7F', '%0A'])
      expect(() => apiPathOf(request(`/v1/secret/a${control}b`))).toThrow(
        refusal('path contains control characters'),
      );
    expect(apiPathOf(request('/v1/secret/a%20~b'))).toBe('secret/a ~b');
  });

  it('refuses empty, "." and ".." segments, except the one a trailing slash leaves', () => {
    const segment = refusal('path has an empty, "." or ".." segment');
    for (const path of ['/v1//secret', '/v1/secret//x', '/v1/./x', '/v1/x/..', '/v1/x/%2E%2E/y'])
      expect(() => apiPathOf(request(path))).toThrow(segment);
    expect(apiPathOf(request('/v1/x/.../y'))).toBe('x/.../y');
    expect(apiPathOf(request('/v1/x/..y'))).toBe('x/..y');
  });

  it("refuses a path the router reads differently, and a '/' encoded inside one segment", () => {
    expect(() =>
      apiPathOf(request('/v1/sys/policy/Ops', '/v1/sys/policy/:name', { name: 'ops' })),
    ).toThrow(refusal('the path is not in canonical form (the router reads it differently)'));
    expect(() =>
      apiPathOf(
        request('/v1/transit/keys/a%2Frotate', '/v1/transit/keys/:name', { name: 'a/rotate' }),
      ),
    ).toThrow(refusal("'/' is not allowed within :name (it was sent encoded as %2F)"));
    // A wildcard may span segments.
    expect(apiPathOf(request('/v1/secret/data/a%2Fb', '/v1/secret/data/*', { '*': 'a/b' }))).toBe(
      'secret/data/a/b',
    );
    // A missing parameter reads as empty: the paths then differ.
    expect(() => apiPathOf(request('/v1/sys/policy/x', '/v1/sys/policy/:name', {}))).toThrow(
      refusal('the path is not in canonical form (the router reads it differently)'),
    );
  });
});

describe('a route pattern read with its parameters', () => {
  it('fills each parameter and the wildcard; one the router left out reads as empty', () => {
    expect(patternReading('/v1/:mount/data/*', { mount: 'kv', '*': 'a/b' })).toBe('kv/data/a/b');
    expect(patternReading('/v1/:mount/data/*', { mount: 'kv' })).toBe('kv/data/');
    expect(patternReading('/v1/transit/keys/:name', {})).toBe('transit/keys/');
  });
});
