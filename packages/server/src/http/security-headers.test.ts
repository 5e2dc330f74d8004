import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../server.js';

/** The headers the server sent before it used @custos/core/http; they may only get stricter. */
const CSP =
  "default-src 'none';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'none';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests";

describe('security headers of the server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ dev: { rootTokenId: 'root' }, port: 0, logLevel: 'silent' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('sends the same headers as before, or stricter ones, on answers and errors', async () => {
    for (const [path, status] of [
      ['sys/health', 200],
      ['secret/data/missing', 403],
      ['nothing/here', 403],
    ] as const) {
      const response = await fetch(`${server.url}/v1/${path}`);
      expect(response.status).toBe(status);
      const h = response.headers;
      expect(h.get('content-security-policy')).toBe(CSP);
      expect(h.get('cache-control')).toBe('no-store');
      expect(h.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(h.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(h.get('referrer-policy')).toBe('no-referrer');
      expect(h.get('x-content-type-options')).toBe('nosniff');
      expect(h.get('x-permitted-cross-domain-policies')).toBe('none');
      // Stricter than before: SAMEORIGIN became DENY, and powerful features are denied.
      expect(h.get('x-frame-options')).toBe('DENY');
      expect(h.get('permissions-policy')).toContain('camera=()');
      // Plain HTTP: HSTS would be ignored by browsers, and the TLS test checks it is sent there.
      expect(h.get('strict-transport-security')).toBeNull();
    }
  });
});
