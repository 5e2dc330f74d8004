import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe.each(await storageKinds())('the transit usage log on %s', (kind) => {
  let s: TestServer;
  let dir: string;
  let auditFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-usage-'));
    auditFile = join(dir, 'audit.log');
    s = await startTestServer(kind, { audit: [{ type: 'file', path: auditFile, name: 'file' }] });
  });
  afterAll(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  const usage = async (name: string) =>
    (await s.request('GET', `transit/keys/${name}/usage`)).body.data.usage as Record<
      string,
      unknown
    >[];
  const accessorOf = async (token: string) =>
    (await s.request('GET', 'auth/token/lookup-self', { token })).body.data.accessor as string;

  it('holds no token accessor (root or any other); the request id finds the HMAC of it in the audit log', async () => {
    await s.policy('user', { 'transit/encrypt/*': ['update'] });
    const user = await s.token({ policies: ['user'], display_name: 'app' });
    await s.request('POST', 'transit/keys/seen', { body: {} });
    await s.request('POST', 'transit/encrypt/seen', { body: { plaintext: b64('x') } });
    await s.request('POST', 'transit/encrypt/seen', { token: user, body: { plaintext: b64('y') } });
    await s.request('POST', 'transit/encrypt/seen', { token: user, body: { plaintext: 'no!' } });
    // Stored segments are read as well as this node's buffer.
    await s.server.context.transitUsage.flush();
    await s.request('POST', 'transit/encrypt/seen', { token: user, body: { plaintext: b64('z') } });

    // A segment written before accessors were dropped shows none either.
    await s.server.context.barrier.write('transit/usage/seen/1999-01-01T00:00:00.000Z-legacy', [
      {
        time: '1999-01-01T00:00:00.000Z',
        operation: 'encrypt',
        success: true,
        version: 1,
        accessor: await accessorOf('root'),
        display_name: 'root',
        request_id: 'legacy',
      },
    ]);
    const [legacy, ...entries] = await usage('seen');
    expect(legacy).toEqual({
      time: '1999-01-01T00:00:00.000Z',
      operation: 'encrypt',
      success: true,
      version: 1,
      display_name: 'root',
      request_id: 'legacy',
    });
    expect(entries.map((e) => [e.operation, e.success, e.display_name])).toEqual([
      ['encrypt', true, 'root'],
      ['encrypt', true, 'token-app'],
      ['encrypt', false, 'token-app'],
      ['encrypt', true, 'token-app'],
    ]);
    for (const entry of entries)
      expect(Object.keys(entry).sort()).toEqual(
        ['display_name', 'operation', 'request_id', 'success', 'time', 'version'].filter(
          (field) => field !== 'version' || 'version' in entry,
        ),
      );
    const text = JSON.stringify([legacy, ...entries]);
    for (const token of ['root', user]) expect(text).not.toContain(await accessorOf(token));

    // The audit entry of the same request holds the accessor HMAC'd, found with audit-hash.
    const requestId = entries[1]?.request_id;
    const responses = (await readFile(auditFile, 'utf8'))
      .split('\n')
      .filter((line) => line.includes(`"${requestId}"`))
      .map((line) => JSON.parse(line) as { type: string; auth?: { accessor?: string } });
    const hash = (
      await s.request('POST', 'sys/audit-hash/file', { body: { input: await accessorOf(user) } })
    ).body.data.hash;
    expect(responses.length).toBeGreaterThan(0);
    for (const entry of responses) expect(entry.auth?.accessor).toBe(hash);
  });

  it('records no use of a key that does not exist, so a key created later under the name starts with an empty log', async () => {
    for (const operation of ['decrypt', 'hmac', 'sign', 'verify', 'rewrap'])
      expect(
        (
          await s.request('POST', `transit/${operation}/ghost`, {
            body: { ciphertext: 'vault:v1:AAAA', input: b64('x'), signature: 'vault:v1:AAAA' },
          })
        ).status,
      ).toBe(400);
    await s.server.context.transitUsage.flush();
    await s.request('POST', 'transit/keys/ghost', { body: {} });
    expect(await usage('ghost')).toEqual([]);
  });

  it('a key restored under a name, or created again after a delete, has none of the earlier history', async () => {
    await s.request('POST', 'transit/keys/earlier', {
      body: { exportable: true, allow_plaintext_backup: true },
    });
    await s.request('POST', 'transit/encrypt/earlier', { body: { plaintext: b64('x') } });
    await s.request('POST', 'transit/decrypt/earlier', { body: { ciphertext: 'vault:v1:AAAA' } });
    await s.server.context.transitUsage.flush();
    expect(await usage('earlier')).toHaveLength(2);
    const backup = (await s.request('GET', 'transit/backup/earlier')).body.data.backup;

    // A forced restore over the key replaces it: the replaced key's history goes with it.
    await s.request('POST', 'transit/restore/earlier', { body: { backup, force: true } });
    expect(await usage('earlier')).toEqual([]);

    // The usage log written under a name whose key is gone (here: left in storage by a node
    // that flushed after the delete) is not inherited by the next key of that name.
    await s.request('POST', 'transit/encrypt/earlier', { body: { plaintext: b64('y') } });
    await s.request('POST', 'transit/keys/earlier/config', { body: { deletion_allowed: true } });
    await s.request('DELETE', 'transit/keys/earlier');
    await s.server.context.barrier.write('transit/usage/earlier/2000-01-01T00:00:00.000Z-left', [
      {
        time: '2000-01-01T00:00:00.000Z',
        operation: 'encrypt',
        success: true,
        display_name: 'another node',
        request_id: 'r',
      },
    ]);
    await s.request('POST', 'transit/restore/earlier', { body: { backup } });
    expect(await usage('earlier')).toEqual([]);
    await s.request('POST', 'transit/keys/earlier/config', { body: { deletion_allowed: true } });
    await s.request('DELETE', 'transit/keys/earlier');
    await s.server.context.barrier.write('transit/usage/earlier/2000-01-01T00:00:00.000Z-left', [
      {
        time: '2000-01-01T00:00:00.000Z',
        operation: 'encrypt',
        success: true,
        display_name: 'another node',
        request_id: 'r',
      },
    ]);
    await s.request('POST', 'transit/keys/earlier', { body: {} });
    expect(await usage('earlier')).toEqual([]);
  });
});
