import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../test/harness.js';

describe('sys/auth', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
  });
  afterAll(async () => {
    await s.close();
  });

  it('lists the fixed auth methods by their path under auth/, as vault auth list reads them', async () => {
    const listed = await s.request('GET', 'sys/auth');
    expect(listed.status).toBe(200);
    expect(Object.keys(listed.body.data).sort()).toEqual(['approle/', 'token/']);
    expect(listed.body.data['approle/']).toMatchObject({ type: 'approle' });
  });

  it('is refused to a token whose policies do not grant read on sys/auth', async () => {
    const token = await s.token({ policies: ['default'] });
    expect((await send(s.url, 'GET', 'sys/auth', { token })).status).toBe(403);
  });
});
