import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PREFIX = 'vault:v1:';

/** Runs `work` over `inputs`, at most `width` at a time (the server sees real concurrency). */
async function inParallel<T, R>(
  inputs: readonly T[],
  width: number,
  work: (input: T) => Promise<R>,
) {
  const results: R[] = new Array(inputs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < inputs.length) {
        const i = next++;
        results[i] = await work(inputs[i] as T);
      }
    }),
  );
  return results;
}

describe.each(await storageKinds())('transit ciphertext tampering on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await s.request('POST', 'transit/keys/tamper', { body: {} });
  });
  afterAll(async () => {
    await s.close();
  });

  it('every base64 symbol (and the padding) at every position after vault:v1: gets a 400, never a 500 and never data', async () => {
    // An empty plaintext gives the shortest ciphertext: nonce (12) + tag (16) = 28 bytes.
    const { body } = await s.request('POST', 'transit/encrypt/tamper', {
      body: { plaintext: '', associated_data: Buffer.from('row 1').toString('base64') },
    });
    const ciphertext = body.data.ciphertext as string;
    const payload = ciphertext.slice(PREFIX.length);
    expect(payload).toHaveLength(40);
    const changed: string[] = [];
    for (let i = 0; i < payload.length; i++) {
      for (const symbol of `${BASE64}=`) {
        if (symbol === payload[i]) continue;
        changed.push(PREFIX + payload.slice(0, i) + symbol + payload.slice(i + 1));
      }
    }
    expect(changed).toHaveLength(40 * 64);
    const responses = await inParallel(changed, 16, (candidate) =>
      s.request('POST', 'transit/decrypt/tamper', {
        body: {
          ciphertext: candidate,
          associated_data: Buffer.from('row 1').toString('base64'),
        },
      }),
    );
    const statuses = new Map<number, number>();
    const messages = new Map<string, number>();
    for (const response of responses) {
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect(response.body.data).toBeUndefined();
      const message = response.body.errors[0];
      messages.set(message, (messages.get(message) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 400: changed.length });
    // A change that leaves canonical base64 reaches authentication; any other is refused before.
    // The 40 characters end in `xy==`: the 37 up to `x` carry 6 bits each (63 other symbols at
    // each: 2331), `y` carries 2 (3 other symbols keep its low 4 bits zero), and 16 symbols in
    // place of the first `=` make a canonical 29-byte value: 2331 + 3 + 16 = 2350.
    const authenticated = changed.filter((candidate) => {
      const body = candidate.slice(PREFIX.length);
      return (
        /^[A-Za-z0-9+/]*={0,2}$/.test(body) &&
        Buffer.from(body, 'base64').toString('base64') === body
      );
    }).length;
    expect(authenticated).toBe(2350);
    expect(Object.fromEntries(messages)).toEqual({
      'cipher: message authentication failed': authenticated,
      'invalid ciphertext: could not decode base64': changed.length - authenticated,
    });
    // The original still decrypts: the server stayed up and the key is intact.
    const original = await s.request('POST', 'transit/decrypt/tamper', {
      body: { ciphertext, associated_data: Buffer.from('row 1').toString('base64') },
    });
    expect(original).toMatchObject({ status: 200, body: { data: { plaintext: '' } } });
  }, 120_000); // 2,560 requests: some 15 s on this machine with both cores busy, past the default bound
});
