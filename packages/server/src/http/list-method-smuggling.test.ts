/**
 * The LIST adapter (list-method.ts) re-feeds only a LIST request that starts a read of the
 * connection. Found by an outside probe: the parser's packet is the whole read, so a read that
 * began with the end of an earlier request's body (which can be any bytes, `LIST …` included)
 * was re-parsed from its start, and the body ran as requests of its own (request smuggling),
 * past the cross-site guard and anything else that had judged the request carrying it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { inParts, statusesOf } from '../../test/raw-http.js';

describe('a LIST request that does not start a read', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
    await s.request('POST', 'secret/data/listed', { body: { data: { a: '1' } } });
  });
  afterAll(async () => {
    await s.close();
  });

  it('never re-parses an earlier request’s body as requests', async () => {
    const hidden =
      'LIST /v1/secret/metadata HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n\r\n' +
      'POST /v1/secret/data/smuggled HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n' +
      'Content-Type: application/json\r\nContent-Length: 27\r\n\r\n{"data":{"hidden":"value"}}';
    const carrier = `POST /v1/sys/wrapping/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${hidden.length}\r\n\r\n`;
    // The carrier's head alone, then its body and a LIST in one read.
    const text = await inParts(s.url, [
      carrier,
      `${hidden}LIST /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]);
    expect(statusesOf(text)[0]).toBeGreaterThanOrEqual(400);
    expect(text).not.toContain('"keys"');
    expect((await s.request('GET', 'secret/data/smuggled')).status).toBe(404);
  });

  it('is refused when pipelined behind another request, never answered out of order', async () => {
    const list = 'LIST /v1/secret/metadata HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n\r\n';
    const get = 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n';
    // The refusal follows the answer owed, never replaces it (found by an outside probe: the
    // 400 went out first and the earlier answer was dropped, though its write had been done).
    const write =
      'POST /v1/secret/data/pipelined HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n' +
      'Content-Type: application/json\r\nContent-Length: 20\r\n\r\n{"data":{"a":"one"}}';
    for (const first of [get, write]) {
      const text = await inParts(s.url, [`${first}${list}`]);
      expect(statusesOf(text), first).toEqual([200, 400]);
      expect(text).not.toContain('"keys"');
    }
    // A LIST that starts its read is served, also after others on the same connection.
    expect(statusesOf(await inParts(s.url, [get, list, list]))).toEqual([200, 200, 200]);
  });
  it('never lends an earlier request’s last body bytes to a LIST the parser refused', async () => {
    // Found by a later probe: a body of 1 to 4 bytes (`L`, `LI`, `LIS`, `LIST`) ending at the
    // start of a read made the parser fail on what followed it (`IST /v1…`) close enough to
    // the read's start to pass a bound, and the whole read was served as a LIST.
    for (let k = 1; k <= 5; k++) {
      const carrier = `GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nContent-Length: ${k}\r\n\r\n`;
      const list = 'LIST /v1/secret/metadata HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n\r\n';
      const text = await inParts(s.url, [carrier, list]);
      expect(statusesOf(text), `a body of ${k} bytes`).toEqual([200, 400]);
      expect(text).not.toContain('"keys"');
    }
  });
  it('answers nothing after a request that closed the connection', async () => {
    const get = 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n';
    const last = 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const text = await inParts(s.url, [`${get}${last}${get}`]);
    expect(statusesOf(text)).toEqual([200, 200]);
    expect(text).not.toContain('malformed request');
  });
});
