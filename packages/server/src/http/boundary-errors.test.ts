/**
 * An error inside admission that is not a refusal (a damaged stored token entry) is answered as
 * itself and counted as no authentication failure: only a refused token is a bad token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';
import { counterValue } from '../../test/metrics.js';
import { type RawEntries, rawEntries } from '../../test/raw-entries.js';

describe('an error during admission that is not a refusal', () => {
  let s: TestServer;
  let raw: RawEntries;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
    raw = await rawEntries(s.storage);
  });
  afterAll(async () => {
    await raw.close();
    await s.close();
  });

  const badTokens = () => counterValue(s, 'custos_auth_failures_total{reason="bad_token"}');
  const tokenEntries = async () => new Set(await raw.paths('sys/token/id/'));

  it('answers a damaged token entry as a storage fault, not as a bad token', async () => {
    const before = await tokenEntries();
    const created = await s.request('POST', 'auth/token/create', {
      body: { policies: ['default'] },
    });
    expect(created.status).toBe(200);
    const token = (created.body as { auth: { client_token: string } }).auth.client_token;
    const added = [...(await tokenEntries())].filter((path) => !before.has(path));
    expect(added).toHaveLength(1);
    // Damaged behind the server's back: its authentication tag no longer matches.
    const damaged = Buffer.from(await raw.get(added[0] as string));
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 0x01;
    await raw.set(added[0] as string, damaged);

    const counted = await badTokens();
    const answer = await send(s.url, 'GET', 'auth/token/lookup-self', { token });
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      errors: [
        'storage integrity check failed: a stored entry was changed, moved or damaged (see the server log)',
      ],
    });
    expect(await badTokens()).toBe(counted);
    // A token that is not there at all is still a bad token.
    expect((await send(s.url, 'GET', 'auth/token/lookup-self', { token: 'cst.none' })).status).toBe(
      403,
    );
    expect(await badTokens()).toBe(counted + 1);
  });
});
