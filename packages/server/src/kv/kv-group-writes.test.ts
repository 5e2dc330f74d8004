import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';
import { type RawEntries, rawEntries } from '../../test/raw-entries.js';

const CANARY = 'canary-group-member-5d1e9a77c3';
const INTEGRITY_FAULT =
  'storage integrity check failed: a stored entry was changed, moved or damaged (see the server log)';

/**
 * Review of the SQLite group commit and fill-after-write, through the server: requests that
 * fail inside a group (check-and-set refused, a write on stale cached metadata rolled back to
 * its savepoint) beside ones that succeed; what an answered write leaves in the file; stored
 * metadata tampered with behind the server's back while the server holds it cached.
 */
describe('KV writes through the group commit (SQLite)', () => {
  let s: TestServer;
  let raw: RawEntries;
  let file: string;
  let auditFile: string;
  const logs: string[] = [];
  let auditDir: string;
  beforeAll(async () => {
    auditDir = await mkdtemp(join(tmpdir(), 'custos-group-audit-'));
    auditFile = join(auditDir, 'audit.log');
    s = await startTestServer('sqlite', {
      logLevel: 'debug',
      logDestination: { write: (line) => logs.push(line) },
      maxRequestBytes: 64 * 1024,
      audit: [{ type: 'file', path: auditFile, name: 'file' }],
    });
    if (s.storage.raw.kind !== 'sqlite') throw new Error('expected SQLite');
    file = s.storage.raw.file;
    raw = await rawEntries(s.storage);
  });
  afterAll(async () => {
    await raw?.close();
    await s?.close();
    await rm(auditDir, { recursive: true, force: true });
  });

  const write = (key: string, data: unknown, cas?: number) =>
    s.request('POST', `secret/data/${key}`, {
      body: { data, ...(cas === undefined ? {} : { options: { cas } }) },
    });
  const versionRows = async (key: string) =>
    (await raw.paths('kv/secret/ver/')).filter((p) => p.endsWith(`/${key}`));

  it('a burst of writes, check-and-set refusals and oversized bodies on one key: failures leave nothing', async () => {
    const key = 'burst/k';
    // Every version kept (the default, 10, would trim the ones counted below).
    await s.request('POST', `secret/metadata/${key}`, { body: { max_versions: 100 } });
    expect((await write(key, { i: 'first' })).status).toBe(200);
    // Another node's write not heard: the server's kept metadata is now stale, so the first
    // tries write their version, fail on the metadata's revision and roll back to their savepoint.
    await raw.bumpRevision(`kv/secret/meta/${key}`);
    const big = 'x'.repeat(100 * 1024);
    const requests = Array.from({ length: 60 }, (_, i) => {
      if (i % 4 === 1) return write(key, { canary: CANARY }, 0); // exists: cas 0 refused
      if (i % 4 === 3 && i % 8 === 3) return write(key, { canary: CANARY, big }); // too large
      return write(key, { i });
    });
    const results = await Promise.all(requests);
    const ok = results.filter((r) => r.status === 200);
    const versions = ok.map((r) => r.body.data.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: ok.length }, (_, i) => i + 2));
    for (const r of results.filter((r) => r.status !== 200)) {
      expect([400, 413]).toContain(r.status);
      expect(r.text).not.toContain(CANARY);
    }
    expect(results.filter((r) => r.status === 400)).toHaveLength(15);
    // Exactly the answered versions are stored: no row of a refused or rolled-back try.
    expect((await versionRows(key)).length).toBe(ok.length + 1);
    const meta = (await s.request('GET', `secret/metadata/${key}`)).body.data;
    expect(meta.current_version).toBe(ok.length + 1);
    expect(Object.keys(meta.versions).length).toBe(ok.length + 1);
    for (let v = 2; v <= ok.length + 1; v++) {
      const read = await s.request('GET', `secret/data/${key}?version=${v}`);
      expect(read.body.data.data).not.toHaveProperty('canary');
    }
    // The refused members' canary is nowhere: logs, audit (hashed values), stored rows.
    expect(logs.join('\n')).not.toContain(CANARY);
    await expect.poll(async () => (await readFile(auditFile, 'utf8')).length).toBeGreaterThan(0);
    expect(await readFile(auditFile, 'utf8')).not.toContain(CANARY);
    const dump = new Database(file, { readonly: true });
    try {
      const values = dump.prepare('select value from custos_entries').all() as { value: Buffer }[];
      for (const { value } of values) expect(value.toString('latin1')).not.toContain(CANARY);
    } finally {
      dump.close();
    }
  });

  it('an answered write is in the database file when its response arrives', async () => {
    const key = 'durable/k';
    await s.request('POST', `secret/metadata/${key}`, { body: { max_versions: 100 } });
    const seen: boolean[] = [];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        write(key, { i }).then((r) => {
          expect(r.status).toBe(200);
          // A fresh connection, opened after the answer: sees only what is committed.
          const fresh = new Database(file, { readonly: true });
          try {
            const row = fresh
              .prepare('select 1 from custos_entries where path = ?')
              .get(`kv/secret/ver/${r.body.data.version}/${key}`);
            seen.push(row !== undefined);
          } finally {
            fresh.close();
          }
        }),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 30 }, () => true));
  });

  it('metadata damaged in storage at its revision is replaced by the next write, never read back', async () => {
    const key = 'tamper/same';
    const path = `kv/secret/meta/${key}`;
    expect((await write(key, { v: 1 })).status).toBe(200);
    const original = await raw.get(path);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0x01;
    await raw.set(path, flipped);
    // Kept in the cache (documented): the read does not look at storage.
    expect((await s.request('GET', `secret/metadata/${key}`)).status).toBe(200);
    // The write replaces the row at the revision it had: the damaged value is gone, not used.
    expect((await write(key, { v: 2 })).body.data.version).toBe(2);
    expect(Buffer.compare(await raw.get(path), flipped)).not.toBe(0);
    // Sealed and unsealed: the caches are dropped and the stored row decrypts.
    expect((await s.request('POST', 'sys/seal')).status).toBe(204);
    expect(
      (await s.request('PUT', 'sys/unseal', { body: { key: s.server.unsealKey } })).body.sealed,
    ).toBe(false);
    const read = await s.request('GET', `secret/data/${key}`);
    expect(read.body.data).toMatchObject({ data: { v: 2 }, metadata: { version: 2 } });
  });

  it('metadata damaged in storage at a new revision: the write refuses, writes nothing; so does a read after unseal', async () => {
    const key = 'tamper/moved';
    const path = `kv/secret/meta/${key}`;
    expect((await write(key, { v: 1 })).status).toBe(200);
    const flipped = Buffer.from(await raw.get(path));
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0x01;
    await raw.set(path, flipped);
    await raw.bumpRevision(path);
    const refused = await write(key, { v: 2 });
    expect(refused.status).toBe(500);
    expect(refused.body).toEqual({ errors: [INTEGRITY_FAULT] });
    expect(await versionRows(key)).toEqual([`kv/secret/ver/1/${key}`]);
    expect((await s.request('POST', 'sys/seal')).status).toBe(204);
    await s.request('PUT', 'sys/unseal', { body: { key: s.server.unsealKey } });
    expect((await s.request('GET', `secret/data/${key}`)).status).toBe(500);
    expect((await write(key, { v: 3 })).status).toBe(500);
    expect(await versionRows(key)).toEqual([`kv/secret/ver/1/${key}`]);
  });
});
