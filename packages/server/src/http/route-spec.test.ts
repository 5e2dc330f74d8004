/**
 * Route declarations the boundary would not honour are refused when declared (route-spec.ts),
 * so no route believes it is unaudited, or open while sealed, when it is not.
 */
import { describe, expect, it } from 'vitest';
import type { RouteAccess, SignedAdmission } from './route-access.js';
import { route } from './route-spec.js';

const declare = (access: RouteAccess) =>
  route({ method: 'GET', path: '/v1/example', access, handler: async () => ({}) });

describe('a route declaration', () => {
  it('may opt out of the audit log only when it takes no token', () => {
    expect(() => declare({ unauthenticated: true, audit: false })).not.toThrow();
    expect(() => declare({ audit: false })).toThrow(
      'route /v1/example: audit: false is for unauthenticated routes only',
    );
    expect(() => declare({ audit: false, unauthenticated: false })).toThrow(/unauthenticated/);
  });

  it('cannot make a signed route answer while sealed', () => {
    const signed = {} as SignedAdmission;
    expect(() => declare({ signed })).not.toThrow();
    expect(() => declare({ signed, whileSealed: true })).toThrow(
      'route /v1/example: a signed route cannot answer while sealed',
    );
    expect(() => declare({ signed, audit: false })).toThrow(/audit: false/);
    expect(() => declare({ signed, unauthenticated: true, audit: false })).toThrow(/audit: false/);
  });
});
