import { randomBytes } from 'node:crypto';
import { REDIS_URL, requireService, uniqueName } from '@custos/test-support/services';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';
import { builtInRotators } from '../built-in-rotators.js';
import type { Rotator } from '../rotator.js';
import { redisAclRotator } from './redis-acl.js';

/** Whether `username`/`password` can authenticate to Redis right now. */
async function works(username: string, password: string): Promise<boolean> {
  const client = new Redis(REDIS_URL, {
    username,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** The redis-acl rotator with a test step that fails after set applied the new password. */
const failingTest: Rotator = {
  ...redisAclRotator,
  name: 'redis-acl-failing-test',
  test: async () => {
    throw new Error('the application could not use the new password');
  },
};

const redis = await requireService('redis');

describe.runIf(redis).each(await storageKinds())(
  'the redis-acl rotator against Redis, custos on %s',
  (kind) => {
    let s: TestServer;
    let admin: Redis;
    const users: string[] = [];
    beforeAll(async () => {
      const rotators = builtInRotators();
      rotators.register(failingTest);
      s = await startTestServer(kind, { rotators });
      admin = new Redis(REDIS_URL);
    });
    afterAll(async () => {
      for (const user of users) await admin.call('ACL', 'DELUSER', user);
      admin.disconnect();
      await s.close();
    });

    /** A fresh ACL user with one password, its secret in KV and a redis-acl policy. */
    const user = async (key: string, rotator = 'redis-acl', grace = '1h') => {
      const username = uniqueName('rot');
      const password = randomBytes(16).toString('hex');
      users.push(username);
      await admin.call('ACL', 'SETUSER', username, 'on', `>${password}`, `~${username}:*`, '+ping');
      await s.request('POST', `secret/data/${key}`, { body: { data: { username, password } } });
      const policy = await s.request('POST', `sys/rotation/secret/${key}`, {
        body: {
          rotator,
          schedule: '90d',
          grace_period: grace,
          settings: { url: REDIS_URL, username },
        },
      });
      expect(policy.status).toBe(204);
      return { username, password };
    };

    it('a set whose signal fired changes nothing on Redis (the node no longer holds the run)', async () => {
      const { username, password } = await user('redis/stopped');
      const next = randomBytes(16).toString('hex');
      const context = {
        rotationId: 'stopped',
        secret: { mount: 'secret', key: 'redis/stopped' },
        settings: { url: REDIS_URL, username },
        gracePeriodSeconds: 3600,
        now: Date.now(),
        current: { username, password },
        pending: { username, password: next },
        readSecret: async () => undefined,
        signal: AbortSignal.abort(new Error('the lease was lost')),
      };
      await expect(redisAclRotator.set(context)).rejects.toThrow(/stopped/);
      expect(await works(username, next)).toBe(false);
      expect(await works(username, password)).toBe(true);
    });

    const current = async (key: string) =>
      (await s.request('GET', `secret/data/${key}`)).body.data.data as {
        username: string;
        password: string;
      };

    it('rotates: both passwords work in the grace period, the old one stops when it ends', async () => {
      const { username, password: old } = await user('redis/app');
      const dry = await s.request('POST', 'sys/rotate-secret/secret/redis/app', {
        body: { dry_run: true },
      });
      expect(dry.body.data.result).toBe('planned');
      const r = await s.request('POST', 'sys/rotate-secret/secret/redis/app', {
        body: { force: true },
      });
      expect(r.body.data.result).toBe('succeeded');
      const now = await current('redis/app');
      expect(now.username).toBe(username);
      expect(now.password).not.toBe(old);
      expect(await works(username, now.password)).toBe(true);
      expect(await works(username, old)).toBe(true);
      const retired = await s.server.context.rotation.engine.retireDue(Date.now() + 2 * 3600_000);
      expect(retired).toContain('secret/redis/app');
      expect(await works(username, old)).toBe(false);
      expect(await works(username, now.password)).toBe(true);
      // Retiring again changes nothing (idempotent).
      expect(await s.server.context.rotation.engine.retireDue(Date.now() + 2 * 3600_000)).toEqual(
        [],
      );
    });

    it("a second rotation within the grace period retires the first one's old password (none stays valid for good)", async () => {
      const { username, password: first } = await user('redis/twice');
      for (let i = 0; i < 2; i++) {
        const r = await s.request('POST', 'sys/rotate-secret/secret/redis/twice', {
          body: { force: true },
        });
        expect(r.body.data.result).toBe('succeeded');
      }
      const now = await current('redis/twice');
      const previous = (await s.request('GET', 'secret/data/redis/twice?stage=previous')).body.data
        .data as { password: string };
      expect(await works(username, first)).toBe(false);
      expect(await works(username, previous.password)).toBe(true);
      expect(await works(username, now.password)).toBe(true);
      const hashes = (await admin.call('ACL', 'GETUSER', username)) as unknown[];
      expect(hashes[hashes.indexOf('passwords') + 1]).toHaveLength(2);
    });

    it('a failing test step removes the new password and leaves the old one working', async () => {
      const { username, password: old } = await user('redis/failing', 'redis-acl-failing-test');
      const r = await s.request('POST', 'sys/rotate-secret/secret/redis/failing', {
        body: { force: true },
      });
      expect(r.body.data.result).toBe('rolled_back');
      expect(await works(username, old)).toBe(true);
      const hashes = (await admin.call('ACL', 'GETUSER', username)) as unknown[];
      const passwords = hashes[hashes.indexOf('passwords') + 1] as string[];
      expect(passwords).toHaveLength(1); // only the old one
      expect((await current('redis/failing')).password).toBe(old);
      expect(r.text).not.toContain(old);
    });

    it('20 clients reading the secret and reconnecting all through a rotation: zero failures', async () => {
      const { username } = await user('redis/busy');
      let stop = false;
      let failures = 0;
      let connections = 0;
      const client = async () => {
        while (!stop) {
          const found = await s.server.context.kv.read('redis/busy');
          if (found.kind !== 'ok') {
            failures++;
            continue;
          }
          if (await works(username, found.data.password as string)) connections++;
          else failures++;
        }
      };
      const clients = Array.from({ length: 20 }, client);
      // The clients run before, during and after one rotation (a second rotation ends the
      // first one's grace period early: clients still holding the oldest value would fail).
      await new Promise((r) => setTimeout(r, 300));
      const r = await s.request('POST', 'sys/rotate-secret/secret/redis/busy', {
        body: { force: true },
      });
      expect(r.body.data.result).toBe('succeeded');
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(clients);
      expect(failures).toBe(0);
      expect(connections).toBeGreaterThan(20);
    });

    it('refuses settings that hold credentials or name no user, and an ACL user that does not exist', async () => {
      for (const settings of [
        { url: 'redis://admin:pw@127.0.0.1:6379', username: 'x' },
        { url: 'http://127.0.0.1', username: 'x' },
        { url: REDIS_URL },
        { url: REDIS_URL, username: 'bad user' },
      ]) {
        const r = await s.request('POST', 'sys/rotation/secret/redis/bad', {
          body: { rotator: 'redis-acl', schedule: '90d', settings },
        });
        expect(r.status, JSON.stringify(settings)).toBe(400);
        expect(r.text).not.toContain(':pw@');
      }
      await s.request('POST', 'secret/data/redis/ghost', {
        body: { data: { password: 'x'.repeat(8) } },
      });
      const ghost = uniqueName('ghost');
      await s.request('POST', 'sys/rotation/secret/redis/ghost', {
        body: {
          rotator: 'redis-acl',
          schedule: '90d',
          settings: { url: REDIS_URL, username: ghost },
        },
      });
      const r = await s.request('POST', 'sys/rotate-secret/secret/redis/ghost', {
        body: { force: true },
      });
      expect(r.body.data.result).toBe('rolled_back');
      expect(r.body.data.error).toMatch(/ACL SETUSER failed/);
      expect(await admin.call('ACL', 'GETUSER', ghost)).toBeNull(); // never created
    });
  },
);
