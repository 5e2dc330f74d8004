import { openTestDatabase, testDatabaseKinds } from '@custos/test-support/kysely';
import { CompiledQuery, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/harness.js';

describe.each(await testDatabaseKinds())(
  'continuing a cut-short transit-key rewrap in %s',
  (kind) => {
    let s: TestServer;
    // biome-ignore lint/suspicious/noExplicitAny: the tables are made by the test.
    let db: Kysely<any>;
    let closeDb: () => Promise<void>;
    const q = async (text: string) =>
      (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text))).rows;

    beforeAll(async () => {
      ({ db, close: closeDb } = await openTestDatabase(kind, 'rotcont'));
      s = await startTestServer(kind, { rotationDatabases: { app: db } });
    });
    afterAll(async () => {
      await s?.close();
      await closeDb?.();
    });

    it('continues the rewrap from where it stopped, without a new key version', async () => {
      expect((await s.request('POST', 'transit/keys/invoices', { body: {} })).status).toBe(200);
      const encrypted = await s.request('POST', 'transit/encrypt/invoices', {
        body: {
          batch_input: [1, 2, 3].map((i) => ({
            plaintext: Buffer.from(`inv-${i}`).toString('base64'),
          })),
        },
      });
      const cts = encrypted.body.data.batch_results.map(
        (b: { ciphertext: string }) => b.ciphertext,
      );
      // What the secret records: the key and its version in use (the one a rotation retires).
      await s.request('POST', 'secret/data/keys/invoices', {
        body: { data: { key: 'invoices', version: 1 } },
      });
      expect(
        (
          await s.request('POST', 'sys/rotation/secret/keys/invoices', {
            body: {
              rotator: 'transit-key',
              schedule: '720h',
              grace_period: '0s',
              settings: {
                key: 'invoices',
                retire_old_versions: true,
                targets: [
                  { database: 'app', table: 'invoices', id_column: 'id', column: 'secret' },
                ],
              },
            },
          })
        ).status,
      ).toBe(204);
      // Nothing to continue before a rotation whose finish failed.
      const early = await s.request('POST', 'sys/rotation-continue/secret/keys/invoices');
      expect(early.status).toBe(400);

      // The table is not there yet: the key rotates, the rewrap (in the background) fails, the
      // rotation stands.
      const rotated = await s.request('POST', 'sys/rotate-secret/secret/keys/invoices', {
        body: { force: true },
      });
      expect(rotated.body.data.result).toBe('succeeded');
      await s.server.context.rotation.engine.backgroundIdle();
      const failed = (await s.request('GET', 'sys/rotation-history/secret/keys/invoices')).body.data
        .runs[0];
      expect(failed.background).toMatchObject({ state: 'failed', attempts: 1 });
      expect(failed.background.error).toMatch(/does not exist/);
      expect(failed.steps.at(-1)).toMatchObject({ step: 'background', result: 'failed' });
      const status = await s.request('GET', 'sys/rotation-status');
      expect(status.body.data.secrets[0]).toMatchObject({ background: 'failed' });
      // Not rotated again before the rewrap is through: the old version's ciphertexts wait.
      const again = await s.request('POST', 'sys/rotate-secret/secret/keys/invoices', {
        body: { force: true },
      });
      expect(again.status).toBe(409);
      expect(again.body.errors[0]).toMatch(/custos rotation continue/);
      // Grace 0, long past: the old key version is not retired before the rewrap is through
      // (the stored ciphertexts under version 1 must keep decrypting).
      const engine = s.server.context.rotation.engine;
      expect(await engine.retireDue(Date.now() + 86_400_000)).toEqual([]);
      const minVersion = async () =>
        (await s.request('GET', 'transit/keys/invoices')).body.data.min_decryption_version;
      expect(await minVersion()).toBe(1);
      await q('create table invoices (id integer primary key, secret text)');
      await q(
        `insert into invoices (id, secret) values ${cts.map((ct: string, i: number) => `(${i + 1}, '${ct}')`).join(', ')}`,
      );

      // A token without the transit rights the policy implies may not continue it.
      await s.policy('continue-only', { 'sys/rotation-continue/*': ['update'] });
      const weak = await s.token({ policies: ['continue-only'] });
      expect(
        (await s.request('POST', 'sys/rotation-continue/secret/keys/invoices', { token: weak }))
          .status,
      ).toBe(403);
      const none = await s.token({ policies: ['default'] });
      expect(
        (await s.request('POST', 'sys/rotation-continue/secret/keys/invoices', { token: none }))
          .status,
      ).toBe(403);

      const continued = await s.request('POST', 'sys/rotation-continue/secret/keys/invoices');
      expect(continued.status).toBe(200);
      expect(continued.body.data.result).toBe('succeeded');
      expect(continued.body.data.background).toBe('running');
      expect(continued.body.data.id).toBe(rotated.body.data.id);
      await s.server.context.rotation.engine.backgroundIdle();
      // Rewrapped: the grace period that ended meanwhile ends now, version 1 is retired.
      expect(await minVersion()).toBe(2);
      const versions = (await q('select secret from invoices order by id')).map((r) =>
        Number(/^vault:v(\d+):/.exec(String(r.secret))?.[1]),
      );
      expect(versions).toEqual([2, 2, 2]);
      expect((await s.request('GET', 'transit/keys/invoices')).body.data.latest_version).toBe(2);
      for (const [i, row] of (await q('select secret from invoices order by id')).entries()) {
        const back = await s.request('POST', 'transit/decrypt/invoices', {
          body: { ciphertext: row.secret },
        });
        expect(Buffer.from(back.body.data.plaintext, 'base64').toString()).toBe(`inv-${i + 1}`);
      }
      const history = await s.request('GET', 'sys/rotation-history/secret/keys/invoices');
      const run = history.body.data.runs.at(-1);
      expect(run.steps.at(-1)).toMatchObject({ step: 'background', result: 'ok' });
      expect(run.background).toMatchObject({ state: 'done', attempts: 2 });
      expect(run.background.error).toBeUndefined();
      expect(run.error).toBeUndefined();
      expect(run.rewrap.targets[0]).toMatchObject({ rewrapped: 3, done: true });
      // Done: nothing more to continue.
      expect((await s.request('POST', 'sys/rotation-continue/secret/keys/invoices')).status).toBe(
        400,
      );
    });
  },
);
