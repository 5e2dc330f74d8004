import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, type RecordingServer, recordingServer } from '@custos/test-support/http';
import { afterEach, describe, expect, it } from 'vitest';
import { custos } from '../test/cli.js';

/** How the CLI reaches the server, end to end: the real binary against local node:http servers. */

const servers: RecordingServer[] = [];
async function server(...args: Parameters<typeof recordingServer>) {
  const started = await recordingServer(...args);
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const canary = () => `cst.canary-${randomBytes(12).toString('hex')}`;
const kvAnswer = { status: 200, body: '{"data":{"data":{"k":"v"},"metadata":{"version":1}}}' };

describe('the CLI talking to a server', () => {
  it('never follows a redirect: the other origin gets no token, no unseal key, nothing', async () => {
    const token = canary();
    const unsealKey = randomBytes(32).toString('base64');
    const elsewhere = await server(() => kvAnswer);
    const redirecting = await server((request) => ({
      status: 307,
      headers: { location: `${elsewhere.url}${request.url}` },
    }));
    const env = { CUSTOS_ADDR: redirecting.url, CUSTOS_TOKEN: token };
    const get = await custos(['kv', 'get', 'app/db'], { env });
    const unseal = await custos(['operator', 'unseal', unsealKey], { env });
    const put = await custos(['kv', 'put', 'app/db', 'password=-'], { env, stdin: unsealKey });
    for (const result of [get, unseal, put]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(
          `with a redirect \\(HTTP 307\\) to ${elsewhere.url};.*\\[ERR_SERVER_REDIRECT\\]`,
        ),
      );
      expect(result.stdout + result.stderr).not.toContain(token);
      expect(result.stdout + result.stderr).not.toContain(unsealKey);
    }
    expect(elsewhere.seen).toEqual([]);
    expect(redirecting.seen).toHaveLength(3);
  });

  it('refuses plain http to a host that is not loopback, before connecting', async () => {
    const token = canary();
    const dir = await mkdtemp(join(tmpdir(), 'custos-client-'));
    const auditLog = join(dir, 'audit.log');
    await writeFile(auditLog, '');
    for (const args of [
      ['kv', 'get', 'app/db'],
      ['operator', 'status'],
      ['operator', 'unseal', 'a2V5'],
      ['audit', 'verify', '--server', auditLog],
    ]) {
      const result = await custos(args, {
        env: { CUSTOS_ADDR: 'http://example.invalid:8200', CUSTOS_TOKEN: token },
      });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(
        /^custos: refusing plain http to http:\/\/example\.invalid:8200/,
      );
      expect(result.stderr).toContain('[ERR_INSECURE_TRANSPORT]');
      expect(result.stderr).not.toContain(token);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('allows plain http beyond loopback with --allow-insecure-http or CUSTOS_ALLOW_INSECURE_HTTP=1', async () => {
    const kv = await server(() => kvAnswer);
    // 0.0.0.0 is no loopback name, yet on this machine it reaches the local server.
    const env = { CUSTOS_ADDR: `http://0.0.0.0:${kv.port}`, CUSTOS_TOKEN: 't' };
    const refused = await custos(['kv', 'get', '--field', 'k', 'app/db'], { env });
    expect(refused).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('ERR_INSECURE_TRANSPORT'),
    });
    expect(kv.seen).toEqual([]);
    const flagged = await custos(['kv', 'get', '--allow-insecure-http', '--field', 'k', 'app/db'], {
      env,
    });
    expect(flagged).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
    const fromEnv = await custos(['kv', 'get', '--field', 'k', 'app/db'], {
      env: { ...env, CUSTOS_ALLOW_INSECURE_HTTP: '1' },
    });
    expect(fromEnv).toEqual({ code: 0, stdout: 'v\n', stderr: '' });
    expect(kv.seen).toHaveLength(2);
  });

  it('reports a server that cannot be reached or does not answer as ERR_SERVER_UNREACHABLE', async () => {
    const token = canary();
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const down = await custos(['operator', 'status'], {
      env: { CUSTOS_ADDR: closed, CUSTOS_TOKEN: token },
    });
    expect(down).toEqual({
      code: 2,
      stdout: '',
      stderr: `custos: cannot reach the server at ${closed} (ECONNREFUSED); check CUSTOS_ADDR [ERR_SERVER_UNREACHABLE]\n`,
    });
    const silent = await server(() => undefined);
    const stuck = await custos(['kv', 'get', 'app/db'], {
      env: { CUSTOS_ADDR: silent.url, CUSTOS_TOKEN: token, CUSTOS_CLIENT_TIMEOUT: '1s' },
    });
    expect(stuck).toMatchObject({
      code: 2,
      stderr: `custos: cannot reach the server at ${silent.url} (no answer within 1000 ms); check CUSTOS_ADDR [ERR_SERVER_UNREACHABLE]\n`,
    });
    expect(down.stderr + stuck.stderr).not.toContain(token);
    const badTimeout = await custos(['kv', 'get', 'app/db'], {
      env: { CUSTOS_ADDR: silent.url, CUSTOS_CLIENT_TIMEOUT: 'soon' },
    });
    expect(badTimeout).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^custos: CUSTOS_CLIENT_TIMEOUT must be/),
    });
  });

  it('reads CUSTOS_ADDR/CUSTOS_TOKEN first, then VAULT_ADDR/VAULT_TOKEN', async () => {
    const first = await server(() => kvAnswer);
    const second = await server(() => kvAnswer);
    const args = ['kv', 'get', '--field', 'k', 'app/db'];
    await custos(args, {
      env: { CUSTOS_ADDR: first.url, VAULT_ADDR: second.url, CUSTOS_TOKEN: 'c', VAULT_TOKEN: 'v' },
    });
    await custos(args, { env: { VAULT_ADDR: second.url, VAULT_TOKEN: 'v' } });
    expect(first.seen.map((r) => r.headers['x-vault-token'])).toEqual(['c']);
    expect(second.seen.map((r) => [r.url, r.headers['x-vault-token']])).toEqual([
      ['/v1/secret/data/app/db', 'v'],
    ]);
  });

  it('documents the flag on every command that talks to the server', async () => {
    for (const command of [
      ['kv', 'get'],
      ['kv', 'metadata', 'put'],
      ['operator', 'unseal'],
      ['audit', 'verify'],
      ['reencrypt'],
      ['encryption', 'status'],
    ]) {
      const help = await custos([...command, '--help']);
      expect(help.stdout, command.join(' ')).toContain('--allow-insecure-http');
    }
  });
});
