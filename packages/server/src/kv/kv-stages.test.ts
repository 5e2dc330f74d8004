import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../test/harness.js';
import { PENDING_LABEL } from './kv-labels.js';

describe.each(await storageKinds())('KV v2 staging labels on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => {
    await s.close();
  });

  const value = () => randomBytes(12).toString('hex');

  it('reads current by default and previous and pending by ?stage=; metadata lists each version’s labels', async () => {
    const [one, two, three] = [value(), value(), value()];
    await s.request('POST', 'secret/data/stages/a', { body: { data: { v: one } } });
    await s.request('POST', 'secret/data/stages/a', { body: { data: { v: two } } });
    // A pending version, as the rotation engine (or AWS PutSecretValue) writes it.
    await s.server.context.kv.write('stages/a', { v: three }, undefined, {
      labels: [PENDING_LABEL],
    });
    const plain = await s.request('GET', 'secret/data/stages/a');
    expect(plain.status).toBe(200);
    expect(plain.body.data.data).toEqual({ v: two });
    expect(plain.body.data.metadata.version).toBe(2);
    const current = await s.request('GET', 'secret/data/stages/a?stage=current');
    expect(current.body.data.data).toEqual({ v: two });
    const previous = await s.request('GET', 'secret/data/stages/a?stage=previous');
    expect(previous.status).toBe(200);
    expect(previous.body.data.data).toEqual({ v: one });
    const pending = await s.request('GET', 'secret/data/stages/a?stage=pending');
    expect(pending.body.data.data).toEqual({ v: three });
    expect(pending.body.data.metadata.version).toBe(3);

    const meta = await s.request('GET', 'secret/metadata/stages/a');
    expect(meta.body.data.current_version).toBe(3);
    expect(meta.body.data.versions['1'].labels).toEqual(['previous']);
    expect(meta.body.data.versions['2'].labels).toEqual(['current']);
    expect(meta.body.data.versions['3'].labels).toEqual(['pending']);

    // A merge patch applies to the current version, not the pending one.
    const patched = await s.request('PATCH', 'secret/data/stages/a', {
      body: { data: { extra: 'x' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    const after = await s.request('GET', 'secret/data/stages/a');
    expect(after.body.data.data).toEqual({ v: two, extra: 'x' });
  });

  it('DELETE data/:path soft-deletes the version a plain read serves (current), never a pending one', async () => {
    const [one, two] = [value(), value()];
    await s.request('POST', 'secret/data/stages/del', { body: { data: { v: one } } });
    await s.server.context.kv.write('stages/del', { v: two }, undefined, {
      labels: [PENDING_LABEL],
    });
    expect((await s.request('DELETE', 'secret/data/stages/del')).status).toBe(204);
    // What a reader saw is gone; the pending version a rotation is testing is untouched.
    expect((await s.request('GET', 'secret/data/stages/del')).status).toBe(404);
    const pending = await s.request('GET', 'secret/data/stages/del?stage=pending');
    expect(pending.status).toBe(200);
    expect(pending.body.data.data).toEqual({ v: two });
    const meta = await s.request('GET', 'secret/metadata/stages/del');
    expect(meta.body.data.versions['1'].deletion_time).not.toBe('');
    expect(meta.body.data.versions['2'].deletion_time).toBe('');
  });

  it('answers 404 for a stage no version holds, and 400 for an unknown stage or a contradiction', async () => {
    await s.request('POST', 'secret/data/stages/b', { body: { data: { v: value() } } });
    expect((await s.request('GET', 'secret/data/stages/b?stage=previous')).status).toBe(404);
    expect((await s.request('GET', 'secret/data/stages/b?stage=pending')).status).toBe(404);
    for (const bad of ['Previous', 'AWSPREVIOUS', 'latest', '']) {
      const r = await s.request('GET', `secret/data/stages/b?stage=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.errors[0]).toMatch(/stage must be one of current, pending, previous/);
    }
    await s.request('POST', 'secret/data/stages/b', { body: { data: { v: value() } } });
    const both = await s.request('GET', 'secret/data/stages/b?stage=previous&version=2');
    expect(both.status).toBe(400);
    const agree = await s.request('GET', 'secret/data/stages/b?stage=previous&version=1');
    expect(agree.status).toBe(200);
  });

  it('is the same label an AWS client sees: AWSPENDING written by custos, pending read by KV', async () => {
    await s.request('POST', 'secret/data/stages/c', { body: { data: { v: value() } } });
    await s.server.context.kv.write('stages/c', { v: value() }, undefined, {
      labels: [PENDING_LABEL],
    });
    const meta = await s.server.context.kv.readMetadata('stages/c');
    expect(meta?.labels).toEqual({ AWSCURRENT: 1, AWSPENDING: 2 });
  });

  it('a token that may not read the secret cannot read a stage of it', async () => {
    await s.request('POST', 'secret/data/stages/d', { body: { data: { v: value() } } });
    await s.policy('stages-other', { 'secret/data/other/*': ['read'] });
    const token = await s.token({ policies: ['stages-other'] });
    const r = await s.request('GET', 'secret/data/stages/d?stage=previous', { token });
    expect(r.status).toBe(403);
  });
});
