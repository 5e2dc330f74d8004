import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, custos, type DevServer, startDevServer } from '../test/cli.js';

const script = fileURLToPath(new URL('../test/fixtures/vault-bootstrap.sh', import.meta.url));
/** A secret value that must never reach standard error or an error message. */
const CANARY = 'canary-7f3e9b1c5d';

function runScript(env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'bash',
      [script],
      { env: { PATH: process.env.PATH, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? -1), stdout, stderr }),
    );
  });
}

describe.runIf(requireTool('bash'))('the CLI for Vault users, against a dev server', () => {
  let dir: string;
  let server: DevServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-vault-cli-'));
    server = await startDevServer('dev-root');
    env = { VAULT_ADDR: server.url, VAULT_TOKEN: 'dev-root' };
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const out = (name: string) => readFile(join(dir, name), 'utf8');

  it('runs a bootstrap script written for vault, renamed to custos, and the token it makes is limited', async () => {
    const result = await runScript({ ...env, CUSTOS_BIN: bin, OUT: dir, CANARY });
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/bootstrap done\n$/) });
    expect(result.stdout).toContain('Success! Uploaded policy: app-reader');
    expect(result.stdout).toContain('Success! Data written to: auth/approle/role/app');

    expect((await out('policies.txt')).split('\n')).toContain('app-reader');
    // Read back exactly as written, in HCL.
    expect(JSON.parse(await out('policy.json')).policy).toBe(
      await readFile(join(dir, 'app-reader.hcl'), 'utf8'),
    );
    // write, then patch merged into a new version; list and delete through the generic commands.
    const db = JSON.parse(await out('db.json'));
    expect(db.data.data).toEqual({ user: 'app', password: CANARY, port: '5432' });
    expect(db.data.metadata.version).toBe(2);
    expect(await out('list.txt')).toBe('Keys\n----\ndb\n');
    expect(await out('delete.txt')).toBe(
      'Success! Data deleted (if it existed) at: secret/data/app/tmp\n',
    );

    const token = JSON.parse(await out('token.json'));
    expect(token.auth.policies).toEqual(['app-reader', 'default']);
    expect(token.auth.lease_duration).toBeGreaterThan(3000);
    expect(token.auth.lease_duration).toBeLessThanOrEqual(3600);
    const login = JSON.parse(await out('login.json'));
    expect(login.auth.token_policies).toEqual(['app-reader', 'default']);

    const lookup = JSON.parse(await out('lookup.json'));
    expect(lookup.data).toMatchObject({ accessor: token.auth.accessor });
    expect(await out('renew.txt')).toMatch(/^token_renewable\s+true$/m);
    expect(await out('caps.txt')).toBe('read\n');
    expect(await out('caps-accessor.txt')).toBe('read\n');
    expect(await out('caps-self.txt')).toBe('read\n');
    expect(await out('read-as-app.txt')).toBe(`${CANARY}\n`);

    expect(await out('denied-write.code')).toBe('2\n');
    expect(await out('denied-write.err')).toMatch(
      /^custos: POST secret\/data\/app\/db: 403 permission denied \[ERR_PERMISSION_DENIED\]\n$/,
    );
    expect(await out('denied-policy.code')).toBe('2\n');
    expect(await out('denied-policy.err')).toMatch(/403 permission denied/);
    expect(await out('revoked.code')).toBe('2\n');
    expect(await out('revoked.err')).toMatch(/403 permission denied/);
    expect(await out('missing.code')).toBe('2\n');
    expect(await out('missing.err')).toBe('No value found at secret/data/app/missing\n');
    for (const name of ['denied-write.err', 'denied-policy.err', 'revoked.err', 'missing.err']) {
      expect(await out(name)).not.toContain(CANARY);
    }
  }, 300_000); // some thirty CLI runs, one after the other

  it('prints the table, a -field and Vault-style errors', async () => {
    const written = await custos(['write', 'secret/data/shown', '-'], {
      env,
      stdin: '{"data": {"a": "1"}}',
    });
    expect(written.code).toBe(0);
    const table = await custos(['read', 'secret/data/shown'], { env });
    expect(table.stdout).toMatch(
      /^Key {9}Value\n--- {9}-----\ndata {8}map\[a:1\]\nmetadata {4}map\[/,
    );
    const field = await custos(['token', 'create', '-field=token', '-policy=default'], { env });
    expect(field.stdout).toMatch(/^cst\.\S+\n$/);
    const batch = await custos(
      ['token', 'create', '-type=batch', '-field=token', '-policy=default'],
      {
        env,
      },
    );
    expect(batch.stdout).toMatch(/^hvb\.\S+\n$/);
    const role = await custos(
      ['write', 'auth/token/roles/cli-role', 'allowed_policies=default', 'orphan=true'],
      {
        env,
      },
    );
    expect(role.code).toBe(0);
    const viaRole = await custos(['token', 'create', '-role', 'cli-role', '-format=json'], { env });
    expect(JSON.parse(viaRole.stdout).auth).toMatchObject({ orphan: true, policies: ['default'] });
    const noData = await custos(['write', 'secret/data/shown'], { env });
    expect(noData).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/must supply data or use -force/),
    });
    const badFormat = await custos(['read', '-format=yaml', 'secret/data/shown'], { env });
    expect(badFormat).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/use table or json/),
    });
  }, 120_000);

  it('writes HCL and JSON policies as written, reports malformed HCL, and explains a decision', async () => {
    const hcl = join(dir, 'app.hcl');
    const text = 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n';
    await writeFile(hcl, text);
    const written = await custos(['policy', 'write', 'hcl-app', hcl], { env });
    expect(written).toMatchObject({ code: 0, stdout: 'Success! Uploaded policy: hcl-app\n' });
    expect((await custos(['policy', 'read', 'hcl-app'], { env })).stdout).toBe(`${text}\n`);
    const broken = join(dir, 'broken.hcl');
    await writeFile(broken, 'path "secret/data/app/*" {\n  capabilities = ["read"\n}\n');
    expect(await custos(['policy', 'write', 'broken-app', broken], { env })).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /policy is not valid HCL: policy:3,1-2: Missing item separator/,
      ),
    });
    const fromStdin = await custos(['policy', 'write', 'stdin-app', '-'], {
      env,
      stdin: '{"path": {"secret/data/x": {"capabilities": ["read"]}}}',
    });
    expect(fromStdin).toMatchObject({ code: 0, stdout: 'Success! Uploaded policy: stdin-app\n' });
    expect((await custos(['policy', 'delete', 'stdin-app'], { env })).code).toBe(0);

    const accessor = JSON.parse(
      (await custos(['token', 'create', '-policy=hcl-app', '-format=json'], { env })).stdout,
    ).auth.accessor as string;
    const explain = (operation: string) =>
      custos(
        [
          'policy',
          'explain',
          '--token-accessor',
          accessor,
          '--path',
          'secret/data/app/db',
          '--operation',
          operation,
        ],
        { env },
      );
    const allowed = await explain('read');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('allowed: read on secret/data/app/db\n');
    expect(allowed.stdout).toContain(
      'why: rule "secret/data/app/*" grants read (from policy "hcl-app")',
    );
    const denied = await explain('update');
    expect(denied.code).toBe(1);
    expect(denied.stdout).toContain('why: rule "secret/data/app/*" grants read, not update');
  }, 120_000);

  it('enables, lists, tunes and disables secrets engines and auth methods, Vault-style flags or --flags', async () => {
    const ok = async (args: string[], printed: RegExp) => {
      const result = await custos(args, { env });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toMatch(printed);
    };
    await ok(
      ['secrets', 'enable', '-path=kv1', '-version=1', 'kv'],
      /Enabled the kv secrets engine at: kv1\//,
    );
    await ok(['secrets', 'enable', '--path', 'kv2', 'kv-v2'], /at: kv2\//);
    await ok(['secrets', 'list'], /^kv1\/\s+kv\s+/m);
    await ok(['secrets', 'tune', '-max-lease-ttl=1h', '-description=team', 'kv2/'], /Tuned/);
    await ok(['secrets', 'list', '-format=json'], /"description": "team"/);
    await ok(['auth', 'enable', '-path=ci', 'approle'], /Enabled approle auth method at: ci\//);
    await ok(['auth', 'list', '-format=json'], /"ci\/"/);
    await ok(['auth', 'disable', 'ci'], /Disabled the auth method/);
    await ok(['secrets', 'disable', 'kv1/'], /Disabled the secrets engine/);
    expect((await custos(['secrets', 'list'], { env })).stdout).not.toMatch(/^kv1\//m);
    // Refused by the server: a clear error on stderr, exit 2, never a success.
    for (const args of [
      ['secrets', 'enable', '-path=kv2', 'kv-v2'],
      ['secrets', 'enable', '-path=secret/nested', 'kv'],
      ['secrets', 'disable', 'transit/'],
      ['auth', 'enable', 'approle'],
    ]) {
      const refused = await custos(args, { env });
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/in use|cannot disable/);
    }
  }, 120_000);
});
