import { randomBytes } from 'node:crypto';
import { REDIS_URL, requireService, uniqueName } from '@custos/test-support/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../../../test/cli.js';

/** The KV mount the secrets of these tests live in. */
const MOUNT = 'secret';

const redis = await requireService('redis');

describe('custos rotate and custos rotation', () => {
  let server: DevServer;
  const token = `root-${randomBytes(8).toString('hex')}`;
  const env = () => ({ CUSTOS_ADDR: server.url, CUSTOS_TOKEN: token });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': token, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };
  const old = `cli-canary-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    server = await startDevServer(token);
    await api('POST', 'secret/data/app/api', { data: { value: old } });
    await api('POST', 'sys/rotation/secret/app/api', { rotator: 'random', schedule: '90d' });
    await api('POST', 'secret/data/app/other', { data: { value: old } });
    await api('POST', 'sys/rotation/secret/app/other', { rotator: 'random', schedule: '90d' });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('plans with --dry-run, does nothing when not due, rotates with --force --reason (exit 0)', async () => {
    const dry = await custos(['rotate', 'secret/app/api', '--dry-run'], { env: env() });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/secret\/app\/api\s+planned/);
    const notDue = await custos(['rotate', 'secret/app/api'], { env: env() });
    expect(notDue.code).toBe(0);
    expect(notDue.stdout).toMatch(/not_due/);
    const done = await custos(
      ['rotate', 'secret/app/api', '--force', '--reason', 'leaked in a log', '--format', 'json'],
      {
        env: env(),
      },
    );
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toEqual([
      expect.objectContaining({ secret: `${MOUNT}/app/api`, result: 'succeeded' }),
    ]);
    for (const out of [dry.stdout, notDue.stdout, done.stdout]) expect(out).not.toContain(old);
    const history = await custos(['rotation', 'history', 'secret/app/api', '--format', 'json'], {
      env: env(),
    });
    expect(history.code).toBe(0);
    expect(JSON.parse(history.stdout)).toEqual([
      expect.objectContaining({ state: 'succeeded', reason: 'leaked in a log' }),
    ]);
    expect(history.stdout).not.toContain(old);
    const status = await custos(['rotation', 'status'], { env: env() });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/secret\/app\/api\s+random\s+automatic/);
  });

  it('--all --type rotates every secret of that rotator and sums up', async () => {
    const all = await custos(
      ['rotate', '--all', '--type', 'random', '--force', '--reason', 'incident 42'],
      {
        env: env(),
      },
    );
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/secret\/app\/api\s+succeeded/);
    expect(all.stdout).toMatch(/secret\/app\/other\s+succeeded/);
    expect(all.stdout).toMatch(/2 succeeded, 0 rolled back/);
  });

  it('exits 2 for usage and configuration errors', async () => {
    for (const args of [
      ['rotate'],
      ['rotate', '--all', '--force', '--reason', 'x'],
      ['rotate', '--all', '--type', 'random'],
      ['rotate', 'secret/app/api', '--force'],
      ['rotate', 'secret/../sys/x', '--force', '--reason', 'x'],
      ['rotate', 'secret/no/policy', '--force', '--reason', 'x'],
    ]) {
      const r = await custos(args, { env: env() });
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
    }
  });

  it.runIf(redis)('exits 1 when a rotation fails and rolls back', async () => {
    await api('POST', 'secret/data/app/redis', { data: { password: old } });
    const policy = await api('POST', 'sys/rotation/secret/app/redis', {
      rotator: 'redis-acl',
      schedule: '90d',
      settings: { url: REDIS_URL, username: uniqueName('nobody') },
    });
    expect(policy.status).toBe(204);
    const r = await custos(['rotate', 'secret/app/redis', '--force', '--reason', 'test'], {
      env: env(),
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/secret\/app\/redis\s+rolled_back/);
    expect(r.stdout).not.toContain(old);
  });
});
