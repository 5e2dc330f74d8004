import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';
import { builtInRotators } from '../built-in-rotators.js';
import type { Rotator } from '../rotator.js';
import { postgresPasswordRotator } from './postgres-password.js';
import { randomValue } from './random-value.js';
import { scramVerifier, verifierMatches } from './scram-verifier.js';

const failingTest: Rotator = {
  ...postgresPasswordRotator,
  name: 'postgres-password-failing-test',
  test: async () => {
    throw new Error('the application could not use the new password');
  },
};

const postgres = await requireService('postgres');

/** The test database's host, port and name (a connection string's user would win over `user`). */
const pgConfig = () => {
  const url = new URL(POSTGRES_URL);
  return { host: url.hostname, port: Number(url.port || 5432), database: url.pathname.slice(1) };
};

describe.runIf(postgres).each(await storageKinds())(
  'the postgres-password rotator against PostgreSQL, custos on %s',
  (kind) => {
    let s: TestServer;
    // A pool: the 20 clients of the rotation test check their logins through it at once.
    let admin: pg.Pool;
    const roles: string[] = [];
    beforeAll(async () => {
      const rotators = builtInRotators();
      rotators.register(failingTest);
      s = await startTestServer(kind, { rotators });
      admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
    });
    afterAll(async () => {
      for (const role of roles) {
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1',
          [role],
        );
        await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      }
      await admin.end();
      await s.close();
    });

    /**
     * Whether `role` can log in with `password`, as a server that asks for passwords would
     * decide (this test server trusts local connections, so the stored verifier is checked).
     */
    const passwordWorks = async (role: string, password: string) => {
      const found = await admin.query(
        'SELECT rolpassword, rolcanlogin FROM pg_authid WHERE rolname = $1',
        [role],
      );
      const row = found.rows[0] as { rolpassword: string | null; rolcanlogin: boolean } | undefined;
      return (
        row?.rolcanlogin === true &&
        row.rolpassword !== null &&
        verifierMatches(row.rolpassword, password)
      );
    };

    /** Two fresh roles; the first one in use with a password, the secret and a policy. */
    const setup = async (key: string, rotator = 'postgres-password') => {
      const base = uniqueName('rot');
      const [a, b] = [`${base}_a`, `${base}_b`];
      roles.push(a, b);
      const password = randomValue({ length: 24, charset: 'alphanumeric', prefix: '' });
      await admin.query(`CREATE ROLE "${a}" LOGIN PASSWORD '${scramVerifier(password)}'`);
      await admin.query(`CREATE ROLE "${b}" LOGIN`);
      await s.request('POST', `secret/data/${key}`, { body: { data: { username: a, password } } });
      const policy = await s.request('POST', `sys/rotation/secret/${key}`, {
        body: {
          rotator,
          schedule: '180d',
          grace_period: '1h',
          settings: { url: POSTGRES_URL, usernames: [a, b] },
        },
      });
      expect(policy.status).toBe(204);
      return { a, b, password };
    };

    it('a set whose signal fired changes nothing on PostgreSQL (the node no longer holds the run)', async () => {
      const { a, b, password } = await setup('pg/stopped');
      const next = randomValue({ length: 24, charset: 'alphanumeric', prefix: '' });
      const context = {
        rotationId: 'stopped',
        secret: { mount: 'secret', key: 'pg/stopped' },
        settings: { url: POSTGRES_URL, usernames: [a, b] },
        gracePeriodSeconds: 3600,
        now: Date.now(),
        current: { username: a, password },
        pending: { username: b, password: next },
        readSecret: async () => undefined,
        signal: AbortSignal.abort(new Error('the lease was lost')),
      };
      await expect(postgresPasswordRotator.set(context)).rejects.toThrow(/stopped/);
      expect(await passwordWorks(b, next)).toBe(false);
      expect(await passwordWorks(a, password)).toBe(true);
    });

    const current = async (key: string) =>
      (await s.request('GET', `secret/data/${key}`)).body.data.data as {
        username: string;
        password: string;
      };

    it('alternates users: the other role gets the new password, the old role keeps its own until the grace period ends', async () => {
      const { a, b, password: old } = await setup('pg/app');
      expect(await passwordWorks(a, old)).toBe(true);
      const r = await s.request('POST', 'sys/rotate-secret/secret/pg/app', {
        body: { force: true },
      });
      expect(r.body.data.result, JSON.stringify(r.body.data.error)).toBe('succeeded');
      const now = await current('pg/app');
      expect(now.username).toBe(b);
      expect(await passwordWorks(b, now.password)).toBe(true);
      expect(await passwordWorks(a, old)).toBe(true);
      expect(await s.server.context.rotation.engine.retireDue(Date.now() + 2 * 3600_000)).toContain(
        'secret/pg/app',
      );
      expect(await passwordWorks(a, old)).toBe(false);
      expect(await passwordWorks(b, now.password)).toBe(true);
      // The next rotation goes back to the first role.
      await s.request('POST', 'sys/rotate-secret/secret/pg/app', { body: { force: true } });
      const again = await current('pg/app');
      expect(again.username).toBe(a);
      expect(await passwordWorks(a, again.password)).toBe(true);
      expect(await passwordWorks(b, now.password)).toBe(true);
    });

    it('a failing test step leaves the old role and password working and the other role without one', async () => {
      const { a, b, password: old } = await setup('pg/failing', 'postgres-password-failing-test');
      const r = await s.request('POST', 'sys/rotate-secret/secret/pg/failing', {
        body: { force: true },
      });
      expect(r.body.data.result).toBe('rolled_back');
      expect(await passwordWorks(a, old)).toBe(true);
      const other = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [b]);
      expect(other.rows[0].rolpassword).toBeNull();
      expect(await current('pg/failing')).toEqual({ username: a, password: old });
      expect(r.text).not.toContain(old);
    });

    it('20 clients reconnecting with the current value and one long-lived connection: zero failed queries through a rotation', async () => {
      await setup('pg/busy');
      let stop = false;
      let failures = 0;
      let queries = 0;
      const first = await current('pg/busy');
      const held = new pg.Client({ ...pgConfig(), user: first.username, password: first.password });
      await held.connect();
      const query = async (client: pg.Client, who: string) => {
        const result = await client.query('SELECT current_user AS who');
        if (result.rows[0]?.who !== who) throw new Error('wrong user');
        queries++;
      };
      const client = async () => {
        while (!stop) {
          const found = await s.server.context.kv.read('pg/busy');
          if (found.kind !== 'ok') {
            failures++;
            continue;
          }
          const { username, password } = found.data as { username: string; password: string };
          const c = new pg.Client({ ...pgConfig(), user: username, password });
          try {
            await c.connect();
            await query(c, username);
            // What a server asking for passwords would decide for this login.
            if (!(await passwordWorks(username, password))) failures++;
          } catch {
            failures++;
          } finally {
            await c.end().catch(() => {});
          }
        }
      };
      const heldLoop = async () => {
        while (!stop) {
          try {
            await query(held, first.username);
          } catch {
            failures++;
          }
        }
      };
      const running = [...Array.from({ length: 20 }, client), heldLoop()];
      // The clients run before, during and after one rotation (a second rotation ends the
      // first one's grace period early: clients still holding the oldest value would fail).
      await new Promise((r) => setTimeout(r, 300));
      const r = await s.request('POST', 'sys/rotate-secret/secret/pg/busy', {
        body: { force: true },
      });
      expect(r.body.data.result).toBe('succeeded');
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(running);
      await held.end();
      expect(failures).toBe(0);
      expect(queries).toBeGreaterThan(40);
    });

    it('refuses settings with a password in the URL or without two roles', async () => {
      const inUrl = randomValue({ length: 16, charset: 'hex', prefix: '' });
      for (const settings of [
        { url: `postgres://u:${inUrl}@127.0.0.1/test`, usernames: ['a', 'b'] },
        { url: POSTGRES_URL, usernames: ['a'] },
        { url: POSTGRES_URL, usernames: ['a', 'a'] },
        { url: POSTGRES_URL, usernames: ['a', 'B"; DROP'] },
      ]) {
        const r = await s.request('POST', 'sys/rotation/secret/pg/bad', {
          body: { rotator: 'postgres-password', schedule: '90d', settings },
        });
        expect(r.status, JSON.stringify(settings)).toBe(400);
        expect(r.text).not.toContain(inUrl);
      }
    });
  },
);
