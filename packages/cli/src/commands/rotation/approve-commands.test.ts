import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, type DevServer, startDevServer } from '../../../test/cli.js';

describe('custos rotation requests and custos rotation approve', () => {
  let server: DevServer;
  const root = `root-${randomBytes(8).toString('hex')}`;
  const api = async (method: string, path: string, body?: unknown, token = root) => {
    const response = await fetch(`${server.url}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': token, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  };
  const people: Record<string, string> = {};
  const as = (who: string) => ({ env: { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: people[who] } });
  const old = `cli-canary-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    server = await startDevServer(root);
    await api('POST', 'sys/policies/acl/rotators', {
      policy: [
        'path "sys/rotate-secret/secret/*" { capabilities = ["update"] }',
        'path "sys/rotation-approve/*" { capabilities = ["update"] }',
        'path "sys/rotation-requests" { capabilities = ["read"] }',
      ].join('\n'),
    });
    for (const name of ['alice', 'bob', 'carol']) {
      const created = await api('POST', 'auth/token/create', {
        policies: ['rotators'],
        display_name: name,
      });
      people[name] = created.body.auth.client_token;
    }
    await api('POST', 'secret/data/prod/db', { data: { value: old } });
    await api('POST', 'sys/rotation/secret/prod/db', {
      rotator: 'random',
      schedule: '90d',
      approvals: 2,
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('asks, lists, refuses self-approval (exit 2) and rotates on the last approval', async () => {
    const asked = await custos(
      ['rotate', 'secret/prod/db', '--force', '--reason', 'drill', '--format', 'json'],
      as('alice'),
    );
    expect(asked.code, asked.stderr).toBe(0);
    const [outcome] = JSON.parse(asked.stdout);
    expect(outcome.result).toBe('approval_required');
    const id = /custos rotation approve ([0-9a-f-]{36})/.exec(outcome.detail)?.[1] as string;
    expect(id).toBeDefined();

    const listed = await custos(['rotation', 'requests'], as('bob'));
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toMatch(/secret\/prod\/db\s+token-alice\s+pending\s+0\/2/);

    const self = await custos(['rotation', 'approve', id], as('alice'));
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/requester cannot approve/);
    const bad = await custos(['rotation', 'approve', 'not-an-id'], as('bob'));
    expect(bad.code).toBe(2);

    const first = await custos(['rotation', 'approve', id], as('bob'));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Approved \(1 of 2\)/);
    const again = await custos(['rotation', 'approve', id], as('bob'));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/approved the request already/);

    const last = await custos(['rotation', 'approve', id, '--format', 'json'], as('carol'));
    expect(last.code, last.stderr).toBe(0);
    expect(JSON.parse(last.stdout)).toMatchObject({
      result: 'succeeded',
      approved_by: ['token-bob', 'token-carol'],
    });
    for (const out of [asked.stdout, listed.stdout, first.stdout, last.stdout])
      expect(out).not.toContain(old);
  });
});
