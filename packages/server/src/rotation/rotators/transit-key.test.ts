import { randomBytes } from 'node:crypto';
import { openTestDatabase, testDatabaseKinds } from '@custos/test-support/kysely';
import { CompiledQuery, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startTestServer, type TestServer } from '../../../test/harness.js';
import { rewrapProgressStore, runRewrap } from './rewrap-job.js';

const ROWS = 1_000;

describe.each(await testDatabaseKinds())('the transit-key rotator, ciphertexts in %s', (kind) => {
  let s: TestServer;
  // biome-ignore lint/suspicious/noExplicitAny: the tables are made by the test.
  let db: Kysely<any>;
  let closeDb: () => Promise<void>;
  const plaintexts = new Map<number, string>();
  const q = async (text: string) =>
    (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text))).rows;

  const encryptAll = async (key: string, count: number): Promise<string[]> => {
    const items = Array.from({ length: count }, (_, i) => {
      const plain = `row-${i}-${randomBytes(8).toString('hex')}`;
      plaintexts.set(i + 1, plain);
      return { plaintext: Buffer.from(plain).toString('base64') };
    });
    const r = await s.request('POST', `transit/encrypt/${key}`, { body: { batch_input: items } });
    expect(r.status).toBe(200);
    return r.body.data.batch_results.map((b: { ciphertext: string }) => b.ciphertext);
  };
  const fill = async (table: string, key: string) => {
    await q(`create table ${table} (id integer primary key, secret text)`);
    const cts = await encryptAll(key, ROWS);
    for (let i = 0; i < cts.length; i += 250) {
      const chunk = cts.slice(i, i + 250);
      await q(
        `insert into ${table} (id, secret) values ${chunk.map((ct, j) => `(${i + j + 1}, '${ct}')`).join(', ')}`,
      );
    }
  };
  const versionsIn = async (table: string) =>
    (await q(`select secret from ${table} order by id`)).map((r) =>
      Number(/^vault:v(\d+):/.exec(String(r.secret))?.[1]),
    );

  beforeAll(async () => {
    ({ db, close: closeDb } = await openTestDatabase(kind, 'rotxkey'));
    s = await startTestServer(kind, { rotationDatabases: { app: db } });
  });
  afterAll(async () => {
    await s?.close();
    await closeDb?.();
  });

  it('rotates the key, round-trips the new version and rewraps every registered row', async () => {
    expect((await s.request('POST', 'transit/keys/orders', { body: {} })).status).toBe(200);
    await fill('orders_a', 'orders');
    expect(
      (
        await s.request('POST', 'sys/rotation/secret/keys/orders', {
          body: {
            rotator: 'transit-key',
            schedule: '720h',
            grace_period: '0s',
            settings: {
              key: 'orders',
              batch_size: 128,
              targets: [{ database: 'app', table: 'orders_a', id_column: 'id', column: 'secret' }],
            },
          },
        })
      ).status,
    ).toBe(204);
    const r = await s.request('POST', 'sys/rotate-secret/secret/keys/orders', {
      body: { force: true },
    });
    expect(r.status).toBe(200);
    expect(r.body.data.result).toBe('succeeded');
    // The answer came once the new version was current; the rewrap runs in the background.
    expect(['pending', 'running', 'done']).toContain(r.body.data.background);
    await s.server.context.rotation.engine.backgroundIdle();
    const key = await s.request('GET', 'transit/keys/orders');
    expect(key.body.data.latest_version).toBe(2);
    const secret = await s.request('GET', 'secret/data/keys/orders');
    expect(secret.body.data.data).toEqual({ key: 'orders', version: 2 });
    expect(new Set(await versionsIn('orders_a'))).toEqual(new Set([2]));
    // Every rewrapped value still decrypts to what was stored.
    const rows = await q('select id, secret from orders_a order by id');
    const dec = await s.request('POST', 'transit/decrypt/orders', {
      body: { batch_input: rows.map((row) => ({ ciphertext: row.secret })) },
    });
    const back = dec.body.data.batch_results.map((b: { plaintext: string }) =>
      Buffer.from(b.plaintext, 'base64').toString(),
    );
    expect(back).toEqual(rows.map((row) => plaintexts.get(Number(row.id))));
    // Progress, behind the barrier.
    const progress = await rewrapProgressStore(s.server.context.barrier).read(r.body.data.id);
    expect(progress?.targets[0]).toMatchObject({ rows: ROWS, rewrapped: ROWS, done: true });
    const history = await s.request('GET', 'sys/rotation-history/secret/keys/orders');
    expect(history.body.data.runs[0].background).toMatchObject({ state: 'done', attempts: 1 });
    expect(history.body.data.runs[0].steps.at(-1)).toMatchObject({
      step: 'background',
      result: 'ok',
    });
    expect(history.body.data.runs[0].rewrap).toMatchObject({
      version: 2,
      targets: [{ database: 'app', table: 'orders_a', column: 'secret', rows: ROWS, done: true }],
    });
    // Run again (a resumed finish): nothing left to do.
    const again = await s.request('POST', 'sys/rotate-secret/secret/keys/orders', {
      body: { force: true },
    });
    expect(again.body.data.result).toBe('succeeded');
    await s.server.context.rotation.engine.backgroundIdle();
    expect(new Set(await versionsIn('orders_a'))).toEqual(new Set([3]));
  });

  it('resumes a rewrap from the last batch saved after a crash', async () => {
    expect((await s.request('POST', 'transit/keys/resume', { body: {} })).status).toBe(200);
    await fill('resume_a', 'resume');
    expect((await s.request('POST', 'transit/keys/resume/rotate', { body: {} })).status).toBe(200);
    const stored = rewrapProgressStore(s.server.context.barrier);
    let saves = 0;
    const job = {
      rotationId: `crash-${randomBytes(6).toString('hex')}`,
      key: 'resume',
      version: 2,
      targets: [{ database: 'app', table: 'resume_a', idColumn: 'id', column: 'secret' }],
      batchSize: 100,
    };
    const deps = {
      transit: s.server.context.transit,
      database: () => db,
      now: Date.now,
    };
    // The process dies while saving the progress of the third batch (its rows committed).
    const crashing = {
      read: stored.read,
      save: async (p: Parameters<typeof stored.save>[0]) => {
        if (++saves === 4) throw new Error('killed');
        await stored.save(p);
      },
    };
    await expect(runRewrap({ ...deps, progress: crashing }, job)).rejects.toThrow('killed');
    expect((await stored.read(job.rotationId))?.targets[0]).toMatchObject({
      rows: 200,
      last_id: 200,
    });
    const versions = await versionsIn('resume_a');
    expect(versions.filter((v) => v === 2)).toHaveLength(300);
    const done = await runRewrap({ ...deps, progress: stored }, job);
    // From row 201: the third batch is read again and found current; the rest rewrapped.
    expect(done.targets[0]).toMatchObject({
      rows: ROWS,
      rewrapped: ROWS - 100,
      current: 100,
      done: true,
    });
    expect(new Set(await versionsIn('resume_a'))).toEqual(new Set([2]));
  });

  it('lets the event loop turn between batches, so the server answers while it rewraps', async () => {
    expect((await s.request('POST', 'transit/keys/turning', { body: {} })).status).toBe(200);
    await fill('turning_a', 'turning');
    expect((await s.request('POST', 'transit/keys/turning/rotate', { body: {} })).status).toBe(200);
    const stored = rewrapProgressStore(s.server.context.barrier);
    let done = 0;
    const watching = {
      read: stored.read,
      save: async (p: Parameters<typeof stored.save>[0]) => {
        await stored.save(p);
        done = p.targets[0]?.rows ?? 0;
      },
    };
    // What a timer saw of the progress each time it ran: on SQLite every query answers at once,
    // so without a turn of the loop no timer runs until the whole rewrap has ended.
    const seen: number[] = [];
    const timer = setInterval(() => seen.push(done), 0);
    try {
      const progress = await runRewrap(
        {
          transit: s.server.context.transit,
          database: () => db,
          now: Date.now,
          progress: watching,
        },
        {
          rotationId: `turn-${randomBytes(6).toString('hex')}`,
          key: 'turning',
          version: 2,
          targets: [{ database: 'app', table: 'turning_a', idColumn: 'id', column: 'secret' }],
          batchSize: 50,
        },
      );
      expect(progress.targets[0]).toMatchObject({ rows: ROWS, done: true });
    } finally {
      clearInterval(timer);
    }
    expect(seen.some((rows) => rows > 0 && rows < ROWS)).toBe(true);
  });

  it('stops between batches once its signal fires, every batch done saved; continues later', async () => {
    expect((await s.request('POST', 'transit/keys/stopping', { body: {} })).status).toBe(200);
    await fill('stopping_a', 'stopping');
    expect((await s.request('POST', 'transit/keys/stopping/rotate', { body: {} })).status).toBe(
      200,
    );
    const stored = rewrapProgressStore(s.server.context.barrier);
    const abort = new AbortController();
    let saves = 0;
    const job = {
      rotationId: `stop-${randomBytes(6).toString('hex')}`,
      key: 'stopping',
      version: 2,
      targets: [{ database: 'app', table: 'stopping_a', idColumn: 'id', column: 'secret' }],
      batchSize: 100,
    };
    const deps = { transit: s.server.context.transit, database: () => db, now: Date.now };
    // The node loses its claim while the third batch's progress is being saved.
    const watching = {
      read: stored.read,
      save: async (p: Parameters<typeof stored.save>[0]) => {
        await stored.save(p);
        if (++saves === 4) abort.abort(new Error('the claim on the job was lost'));
      },
    };
    await expect(
      runRewrap({ ...deps, progress: watching, signal: abort.signal }, job),
    ).rejects.toThrow('the claim on the job was lost');
    expect(saves).toBe(4); // no batch read after the signal fired
    expect((await stored.read(job.rotationId))?.targets[0]).toMatchObject({
      rows: 300,
      last_id: 300,
      done: false,
    });
    const versions = await versionsIn('stopping_a');
    expect(versions.slice(0, 300).every((v) => v === 2)).toBe(true);
    expect(versions.slice(300).every((v) => v === 1)).toBe(true);
    const done = await runRewrap({ ...deps, progress: stored }, job);
    expect(done.targets[0]).toMatchObject({ rows: ROWS, rewrapped: ROWS, done: true });
    expect(new Set(await versionsIn('stopping_a'))).toEqual(new Set([2]));
  });

  it('refuses SQL in identifiers, unknown databases and writers without rights on the key', async () => {
    const write = (settings: Record<string, unknown>, token?: string) =>
      s.request('POST', 'sys/rotation/secret/keys/evil', {
        body: { rotator: 'transit-key', schedule: '720h', settings },
        ...(token === undefined ? {} : { token }),
      });
    // A key and a table of its own (a test may run alone: mutation runs run only the tests
    // they need).
    expect((await s.request('POST', 'transit/keys/evil', { body: {} })).status).toBe(200);
    await q('create table orders_evil (id integer primary key, secret text)');
    await q("insert into orders_evil (id, secret) values (1, 'a'), (2, 'b'), (3, 'c')");
    const target = { database: 'app', table: 'orders_evil', id_column: 'id', column: 'secret' };
    for (const bad of [
      { table: 'orders_evil; drop table orders_evil' },
      { table: 'orders_evil"--' },
      { column: 'secret) values (1' },
      { id_column: 'id or 1=1' },
      { table: 'a.b.c' },
      { column: 'secret', id_column: 'secret' },
    ]) {
      const r = await write({ key: 'evil', targets: [{ ...target, ...bad }] });
      expect(r.status).toBe(400);
      expect(r.body.errors[0]).toMatch(/settings\.targets\[0\]/);
    }
    // A URL with credentials, made at run time (the repo's self-scan stays clean).
    const url = `postgres://app:${randomBytes(6).toString('hex')}@db.internal/app`;
    for (const database of ['nope', url, 'APP_DATABASE_URL', '__proto__']) {
      const r = await write({ key: 'evil', targets: [{ ...target, database }] });
      expect(r.status).toBe(400);
      expect(r.body.errors[0]).toMatch(/database/);
      expect(r.text).not.toContain(url);
    }
    expect(await q('select count(*) as n from orders_evil')).toEqual([
      { n: kind === 'postgres' ? '3' : 3 },
    ]);
    // A token that may write the rotation policy (and the secret) but not rotate the key.
    await s.policy('kv-writer', {
      'secret/data/keys/*': ['create', 'update', 'read'],
      'sys/rotation/secret/keys/*': ['create', 'update', 'read'],
      'transit/rewrap/evil': ['update'],
    });
    const writer = await s.token({ policies: ['kv-writer'] });
    const denied = await write({ key: 'evil', targets: [target] }, writer);
    expect(denied.status).toBe(403);
    expect((await s.request('GET', 'sys/rotation/secret/keys/evil')).status).toBe(404);
    await s.policy('key-admin', {
      'sys/rotation/secret/keys/*': ['create', 'update', 'read'],
      'transit/keys/evil/rotate': ['update'],
      'transit/rewrap/evil': ['update'],
    });
    const admin = await s.token({ policies: ['key-admin'] });
    expect((await write({ key: 'evil', targets: [target] }, admin)).status).toBe(204);
    // Retiring old versions changes the key's configuration: that right too.
    expect(
      (await write({ key: 'evil', targets: [target], retire_old_versions: true }, admin)).status,
    ).toBe(403);
    expect(
      (await write({ key: 'evil', targets: [target], retire_old_versions: 'yes' })).status,
    ).toBe(400);
    // Still denied for the first token: rewriting the policy is judged again.
    expect((await write({ key: 'evil', targets: [] }, writer)).status).toBe(403);
    const viaSend = await send(s.url, 'GET', 'sys/rotation/secret/keys/evil', { token: admin });
    expect(viaSend.status).toBe(200);
  });
});
