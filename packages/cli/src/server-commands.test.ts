import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import {
  dropPostgresSchema,
  POSTGRES_URL,
  requireService,
  uniqueName,
} from '@custos/test-support/services';
import { createTestPki, selfSignedCertificate } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, startCustos } from '../test/cli.js';

/** The storages the production server is tested on from the CLI. */
async function serverStorages(): Promise<('sqlite' | 'postgres')[]> {
  return (await requireService('postgres')) ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** A storage location for a config file: a SQLite file in `dir`, or a fresh PostgreSQL schema. */
async function configStorage(kind: 'sqlite' | 'postgres', dir: string) {
  if (kind === 'sqlite') return { location: join(dir, 'custos.db'), cleanup: async () => {} };
  const schema = uniqueName('cli_tls');
  return {
    location: `${POSTGRES_URL}?schema=${schema}`,
    cleanup: () => dropPostgresSchema(schema),
  };
}

/** The response headers of an HTTPS GET that trusts exactly `caFile`. */
async function httpsHeaders(url: string, caFile: string): Promise<Record<string, unknown>> {
  const ca = await readFile(caFile);
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      response.resume();
      resolve(response.headers);
    }).on('error', reject);
  });
}

/** The body of an HTTPS GET that trusts exactly `caFile`. */
async function httpsText(url: string, caFile: string): Promise<string> {
  const ca = await readFile(caFile);
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Runs `custos args…` with `env`, optionally feeding `stdin`. */
function run(args: string[], env: Record<string, string> = {}, stdin?: string) {
  return custos(args, { env, ...(stdin === undefined ? {} : { stdin }) });
}

/** Starts `custos server …` and resolves with its address once it prints it. */
function serve(
  args: string[],
  until: RegExp,
  env?: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = startCustos(['server', ...args], env === undefined ? {} : { env });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /(?:Listening on:\s+|listening on )(https?:\/\/[^\s]+)/.exec(output);
      if (match && until.test(output))
        resolve({ child, url: match[1] as string, output: () => output });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

// Each test runs a server and a score of CLI processes one after another: with both cores busy
// that takes longer than the default 20 s bound.
describe('custos server, operator, kv and audit commands', { timeout: 120_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-server-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a dev server and reads and writes secrets through the kv commands', async () => {
    const { child, url, output } = await serve(
      ['--dev', '--dev-root-token-id', 'dev-root', '--listen', '127.0.0.1:0'],
      /Root token/,
    );
    try {
      expect(output()).toMatch(/Root token:\s+dev-root/);
      const env = { CUSTOS_ADDR: url, CUSTOS_TOKEN: 'dev-root' };
      expect(
        (await run(['kv', 'put', 'app/db', 'user=app', 'password=-'], env, 's3cr3t\n')).code,
      ).toBe(0);
      expect((await run(['kv', 'put', '--cas', '1', 'app/db', 'password=two'], env)).code).toBe(0);
      const stale = await run(['kv', 'put', '--cas', '1', 'app/db', 'password=three'], env);
      expect(stale.code).toBe(2);
      expect(stale.stderr).toMatch(/check-and-set parameter did not match/);
      expect((await run(['kv', 'get', '--field', 'password', 'app/db'], env)).stdout).toBe('two\n');
      expect(
        (await run(['kv', 'get', '--version', '1', '--field', 'password', 'app/db'], env)).stdout,
      ).toBe('s3cr3t\n');
      expect((await run(['kv', 'patch', 'app/db', 'port=5432'], env)).code).toBe(0);
      const json = JSON.parse((await run(['kv', 'get', '--format', 'json', 'app/db'], env)).stdout);
      // put replaces the whole secret (version 2 has no user); patch merges into it.
      expect(json.data.data).toEqual({ password: 'two', port: '5432' });
      expect((await run(['kv', 'list'], env)).stdout).toBe('app/\n');
      expect((await run(['kv', 'delete', 'app/db'], env)).code).toBe(0);
      expect((await run(['kv', 'get', 'app/db'], env)).stderr).toMatch(
        /version 3 of secret\/app\/db is deleted/,
      );
      expect((await run(['kv', 'undelete', '--versions', '3', 'app/db'], env)).stdout).toBe(
        'secret/app/db: versions 3 undeleted\n',
      );
      // Without --versions, destroy and undelete are usage errors (exit 2), not a crash.
      for (const action of ['destroy', 'undelete']) {
        const missing = await run(['kv', action, 'app/db'], env);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(
          new RegExp(`kv ${action} needs --versions .*\\[ERR_INVALID_ARGUMENT\\]`),
        );
      }
      const destroyed = await run(['kv', 'destroy', '--versions', '1', 'app/db'], env);
      expect(destroyed).toMatchObject({ code: 0, stdout: 'secret/app/db: versions 1 destroyed\n' });
      expect(
        (
          await run(
            [
              'kv',
              'metadata',
              'put',
              '--max-versions',
              '4',
              '--custom-metadata',
              'owner=ops',
              '--',
              'app/db',
            ],
            env,
          )
        ).code,
      ).toBe(0);
      const meta = JSON.parse(
        (await run(['kv', 'metadata', 'get', '--format', 'json', 'app/db'], env)).stdout,
      );
      expect(meta.data).toMatchObject({
        max_versions: 4,
        custom_metadata: { owner: 'ops' },
        current_version: 3,
      });
      expect(meta.data.versions['1'].destroyed).toBe(true);
      expect((await run(['kv', 'metadata', 'delete', 'app/db'], env)).code).toBe(0);
      expect((await run(['kv', 'get', 'app/db'], env)).code).toBe(2);
      const denied = await run(['kv', 'get', 'app/db'], {
        CUSTOS_ADDR: url,
        CUSTOS_TOKEN: 'wrong',
      });
      expect(denied).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/403 permission denied/),
      });
      // VAULT_ADDR / VAULT_TOKEN work too.
      expect(
        (await run(['operator', 'status'], { VAULT_ADDR: url, VAULT_TOKEN: 'dev-root' })).code,
      ).toBe(0);
    } finally {
      await stop(child);
    }
  });

  it('describes every kv metadata subcommand in its help', async () => {
    const help = await run(['kv', 'metadata', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/get \[options\] <path>\s+show a key's settings/);
    expect(help.stdout).toMatch(/put \[options\] <path>\s+change a key's settings/);
    expect(help.stdout).toMatch(/delete \[options\] <path>\s+delete the key/);
  });

  it('warns loudly at start-up when it listens beyond loopback without TLS or has no audit sink', async () => {
    const config = join(dir, 'exposed.json');
    await writeFile(
      config,
      JSON.stringify({ listen: '0.0.0.0:0', storage: 'exposed.db', logLevel: 'warn', ui: false }),
    );
    const server = await serve(['--config', config], /not initialised/);
    try {
      expect(server.output()).toMatch(/^WARNING: listening on 0\.0\.0\.0 without TLS: /m);
      expect(server.output()).toMatch(/^WARNING: no audit sink: /m);
      // "ui": false: no dashboard, /ui/ is refused as any path outside /v1/.
      const ui = await fetch(`${server.url.replace('0.0.0.0', '127.0.0.1')}/ui/`);
      expect(ui.status).toBe(400);
      expect(ui.headers.get('content-type')).toBe('application/json');
    } finally {
      await stop(server.child);
    }
  });

  it('runs a production server from a config file: init, unseal from stdin, seal, and verifies its audit log', async () => {
    const auditFile = join(dir, 'audit.log');
    const config = join(dir, 'custos.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: '127.0.0.1:0',
        storage: 'data/custos.db',
        audit: [{ type: 'file', path: 'audit.log' }],
        logLevel: 'warn',
      }),
    );
    let server = await serve(['--config', config], /not initialised/);
    const env = { CUSTOS_ADDR: server.url };
    try {
      expect(server.output()).toMatch(/not initialised/);
      // The dashboard is served by default, also before init (its page, or how to build it).
      const ui = await fetch(`${server.url}/ui/`);
      expect(ui.headers.get('content-security-policy')).toMatch(
        /^default-src 'none'; script-src 'self'/,
      );
      expect((await run(['operator', 'status'], env)).code).toBe(1);
      const init = JSON.parse(
        (await run(['operator', 'init', '-n', '3', '-t', '2', '--format', 'json'], env)).stdout,
      );
      expect(init.keys).toHaveLength(3);
      expect((await run(['operator', 'unseal'], env, `${init.keys[0]}\n`)).stdout).toMatch(
        /1 of 2/,
      );
      expect((await run(['operator', 'unseal', init.keys[2]], env)).stdout).toMatch(/unsealed/);
      const withToken = { ...env, CUSTOS_TOKEN: init.root_token };
      expect((await run(['kv', 'put', 'svc/a', 'k=v'], withToken)).code).toBe(0);

      expect((await run(['operator', 'seal'], withToken)).code).toBe(0);
      expect((await run(['kv', 'get', 'svc/a'], withToken)).stderr).toMatch(/503/);
      await stop(server.child);

      const intact = await run(['audit', 'verify', auditFile]);
      expect(intact.code).toBe(0);
      expect(intact.stdout).toMatch(
        /intact — \d+ entries, seq 1\.\.(\d+)\n {2}signed by checkpoints: seq 1\.\.\1\n/,
      );
      expect(intact.stdout).toMatch(/end of the file: +closed by the server/);

      // Restart on the same storage: data kept, sealed again, the audit chain continues.
      server = await serve(['--config', config], /unseal with/);
      const env2 = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: init.root_token };
      for (const key of init.keys.slice(1)) await run(['operator', 'unseal', key], env2);
      expect((await run(['kv', 'get', '--field', 'k', 'svc/a'], env2)).stdout).toBe('v\n');
      const keyFile = join(dir, 'audit-key.txt');
      const publicKey = await fetch(`${server.url}/v1/sys/audit/public-key`, {
        headers: { 'x-vault-token': init.root_token },
      });
      await writeFile(
        keyFile,
        ((await publicKey.json()) as { data: { public_key: string } }).data.public_key,
      );
      const live = await run(
        ['audit', 'verify', '--public-key', keyFile, '--server', auditFile],
        env2,
      );
      expect(live.code).toBe(0);
    } finally {
      await stop(server.child);
    }

    const lines = (await readFile(auditFile, 'utf8')).trim().split('\n');
    const tampered = join(dir, 'tampered.log');
    await writeFile(tampered, `${[...lines.slice(0, 3), ...lines.slice(4)].join('\n')}\n`);
    const report = await run(['audit', 'verify', tampered]);
    expect(report.code).toBe(1);
    expect(report.stderr).toMatch(/missing \(removed\)/);
    // Cut at a line boundary (the server closed the log, so its last line is a checkpoint)…
    const cut = join(dir, 'cut.log');
    await writeFile(cut, `${lines.slice(0, -1).join('\n')}\n`);
    const cutReport = await run(['audit', 'verify', cut]);
    expect(cutReport.code).toBe(1);
    expect(cutReport.stderr).toMatch(/ends with a close entry .* without the checkpoint/);
    expect(cutReport.stdout).toMatch(/not signed yet: +seq \d+\.\.\d+\n/);
    // …or emptied.
    const empty = join(dir, 'empty.log');
    await writeFile(empty, '');
    const emptyReport = await run(['audit', 'verify', empty]);
    expect(emptyReport.code).toBe(1);
    expect(emptyReport.stderr).toMatch(/the file is empty/);
  });
});

const hasOpenssl = requireTool('openssl');

describe.each(await serverStorages())('custos server --config with a tls block, on %s', (kind) => {
  let dir: string;
  let storage: { location: string; cleanup(): Promise<void> };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-tls-'));
    storage = await configStorage(kind, dir);
  });
  afterAll(async () => {
    await storage.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('generates a root token from the key shares and decodes it (operator generate-root)', async () => {
    const config = join(dir, 'custos-generate-root.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: '127.0.0.1:0',
        storage: 'data/generate-root.db',
        logLevel: 'warn',
      }),
    );
    const server = await serve(['--config', config], /not initialised/);
    const env = { CUSTOS_ADDR: server.url };
    try {
      const init = (await (
        await fetch(`${server.url}/v1/sys/init`, {
          method: 'POST',
          body: JSON.stringify({ secret_shares: 3, secret_threshold: 2 }),
        })
      ).json()) as { keys: string[]; root_token: string };
      for (const key of init.keys.slice(0, 2))
        await fetch(`${server.url}/v1/sys/unseal`, {
          method: 'POST',
          body: JSON.stringify({ key }),
        });
      await fetch(`${server.url}/v1/secret/data/svc/a`, {
        method: 'POST',
        headers: { 'x-vault-token': init.root_token },
        body: JSON.stringify({ data: { k: 'v' } }),
      });

      // A new root token from the key shares (Vault's OTP flow), decoded as Vault's CLI does.
      const started = JSON.parse(
        (await run(['operator', 'generate-root', '--init', '--format', 'json'], env)).stdout,
      );
      expect(started.otp).toHaveLength(started.otp_length);
      expect((await run(['operator', 'generate-root', '--status'], env)).stdout).toMatch(
        /Progress +0\/2/,
      );
      expect((await run(['operator', 'generate-root', `${init.keys[0]}`], env)).stdout).toMatch(
        /Progress +1\/2/,
      );
      const generated = JSON.parse(
        (await run(['operator', 'generate-root', '--format', 'json'], env, `${init.keys[1]}\n`))
          .stdout,
      );
      expect(generated.complete).toBe(true);
      const decoded = await run(
        ['operator', 'generate-root', `-decode=${generated.encoded_token}`, `-otp=${started.otp}`],
        env,
      );
      expect(decoded.code, decoded.stderr).toBe(0);
      const newRoot = decoded.stdout.trim();
      expect(newRoot).not.toBe(init.root_token);
      expect(
        (await run(['kv', 'get', '--field', 'k', 'svc/a'], { ...env, CUSTOS_TOKEN: newRoot }))
          .stdout,
      ).toBe('v\n');
      expect((await run(['operator', 'generate-root', '--generate-otp'], env)).stdout).toMatch(
        /^[A-Za-z0-9]{36}\n$/,
      );
    } finally {
      await stop(server.child);
    }
  }, 60_000);

  it('rotates the recovery keys of a PKCS#11-sealed server (operator rekey -target=recovery)', async () => {
    const hsm = join(dir, 'hsm');
    await mkdir(hsm);
    await writeFile(
      join(hsm, 'softhsm2.conf'),
      `directories.tokendir = ${hsm}\nobjectstore.backend = file\n`,
    );
    const hsmEnv = { SOFTHSM2_CONF: join(hsm, 'softhsm2.conf') };
    const pin = randomBytes(8).toString('hex');
    const soPin = randomBytes(8).toString('hex');
    const tokenInit = execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'cli-seal', '--so-pin', soPin, '--pin', pin],
      { env: { ...process.env, ...hsmEnv }, stdio: 'pipe' },
    ).toString('utf8');
    expect(tokenInit).toMatch(/reassigned/);
    await writeFile(join(dir, 'hsm-pin'), `${pin}\n`, { mode: 0o600 });
    const config = join(dir, 'custos-hsm.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: '127.0.0.1:0',
        storage: 'data/hsm.db',
        logLevel: 'warn',
        seal: {
          type: 'pkcs11',
          lib: '/usr/lib/softhsm/libsofthsm2.so',
          token_label: 'cli-seal',
          key_label: 'custos-seal',
          pin_file: 'hsm-pin',
          generate_key: true,
        },
      }),
    );
    const server = await serve(['--config', config], /not initialised/, hsmEnv);
    const env = { CUSTOS_ADDR: server.url };
    try {
      const init = await run(
        ['operator', 'init', '-recovery-shares=3', '-recovery-threshold=2', '-format=json'],
        env,
      );
      expect(init.code, init.stderr).toBe(0);
      const recoveryKeys = JSON.parse(init.stdout).recovery_keys as string[];
      expect(recoveryKeys).toHaveLength(3);
      const barrier = await run(
        ['operator', 'rekey', '-init', '-key-shares=3', '-key-threshold=2'],
        env,
      );
      expect(barrier.code).not.toBe(0);
      expect(barrier.stderr).toContain('rekey-recovery-key');
      const started = await run(
        ['operator', 'rekey', '-target=recovery', '-init', '-key-shares=2', '-key-threshold=2'],
        env,
      );
      expect(started.code, started.stderr).toBe(0);
      expect(started.stdout).toMatch(/New Shares +2/);
      await run(['operator', 'rekey', '-target=recovery', `${recoveryKeys[0]}`], env);
      const done = await run(
        ['operator', 'rekey', '-target=recovery'],
        env,
        `${recoveryKeys[2]}\n`,
      );
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toMatch(/old recovery keys no longer authorise/);
      expect([...done.stdout.matchAll(/^Key \d: ([0-9a-f]+)$/gm)]).toHaveLength(2);
      const wrongTarget = await run(['operator', 'rekey', '-target=unseal', '-status'], env);
      expect(wrongTarget.code).not.toBe(0);
      expect(wrongTarget.stderr).toContain('--target must be barrier or recovery');
    } finally {
      await stop(server.child);
    }
  }, 60_000);

  it('rekeys with a threshold of the current shares, then with verification (operator rekey)', async () => {
    const config = join(dir, 'custos-rekey.json');
    await writeFile(
      config,
      JSON.stringify({ listen: '127.0.0.1:0', storage: 'data/rekey.db', logLevel: 'warn' }),
    );
    const server = await serve(['--config', config], /not initialised/);
    const env = { CUSTOS_ADDR: server.url };
    const unsealWith = async (keys: readonly string[]) => {
      for (const key of keys)
        await fetch(`${server.url}/v1/sys/unseal`, {
          method: 'POST',
          body: JSON.stringify({ key }),
        });
    };
    try {
      const init = (await (
        await fetch(`${server.url}/v1/sys/init`, {
          method: 'POST',
          body: JSON.stringify({ secret_shares: 3, secret_threshold: 2 }),
        })
      ).json()) as { keys: string[]; root_token: string };
      await unsealWith(init.keys.slice(0, 2));

      const started = await run(
        ['operator', 'rekey', '-init', '-key-shares=4', '-key-threshold=3'],
        env,
      );
      expect(started.code, started.stderr).toBe(0);
      expect(started.stdout).toMatch(/Progress +0\/2/);
      expect(started.stdout).toMatch(/New Shares +4/);
      expect((await run(['operator', 'rekey', `${init.keys[2]}`], env)).stdout).toMatch(
        /Progress +1\/2/,
      );
      const done = await run(['operator', 'rekey'], env, `${init.keys[0]}\n`);
      expect(done.code, done.stderr).toBe(0);
      const newKeys = [...done.stdout.matchAll(/^Key \d: ([0-9a-f]+)$/gm)].map(
        (m) => m[1] as string,
      );
      expect(newKeys).toHaveLength(4);
      expect(newKeys).not.toContain(init.keys[0]);

      // The new keys unseal; the old ones no longer do.
      await fetch(`${server.url}/v1/sys/seal`, {
        method: 'POST',
        headers: { 'x-vault-token': init.root_token },
      });
      await unsealWith(init.keys.slice(0, 3));
      const sealed = async () =>
        ((await (await fetch(`${server.url}/v1/sys/seal-status`)).json()) as { sealed: boolean })
          .sealed;
      expect(await sealed()).toBe(true);
      await fetch(`${server.url}/v1/sys/unseal`, {
        method: 'POST',
        body: JSON.stringify({ reset: true }),
      });
      await unsealWith(newKeys.slice(1, 4));
      expect(await sealed()).toBe(false);

      // With verification: the new keys replace the old ones once a threshold of them is given back.
      const withVerification = await run(
        ['operator', 'rekey', '-init', '-verify', '-key-shares=2', '-key-threshold=2'],
        env,
      );
      expect(withVerification.code, withVerification.stderr).toBe(0);
      await run(['operator', 'rekey', `${newKeys[0]}`], env);
      await run(['operator', 'rekey', `${newKeys[1]}`], env);
      const third = await run(['operator', 'rekey', `${newKeys[2]}`, '-format=json'], env);
      expect(third.code, third.stderr).toBe(0);
      const verifying = JSON.parse(third.stdout);
      expect(verifying.verification_required).toBe(true);
      expect((await run(['operator', 'rekey', '-status', '-verify'], env)).stdout).toMatch(
        /Progress +0\/2/,
      );
      await run(['operator', 'rekey', '-verify', `${verifying.keys[0]}`], env);
      const verified = await run(['operator', 'rekey', '-verify', `${verifying.keys[1]}`], env);
      expect(verified.stdout).toMatch(/verification complete/);

      // Cancel: nothing in progress afterwards.
      await run(['operator', 'rekey', '-init', '-key-shares=3', '-key-threshold=2'], env);
      expect((await run(['operator', 'rekey', '-cancel'], env)).stdout).toMatch(/canceled/);
      expect((await run(['operator', 'rekey', '-status'], env)).stdout).toMatch(/Started +false/);
    } finally {
      await stop(server.child);
    }
  }, 60_000);

  it('serves HTTPS with the configured certificate end to end: operator, kv and a verified audit log', async ({
    skip,
  }) => {
    if (!hasOpenssl) skip(); // requireTool said why (and fails under CI)
    // A self-signed certificate for 127.0.0.1, made for this test.
    selfSignedCertificate(dir);
    const config = join(dir, 'custos.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: '127.0.0.1:0',
        storage: storage.location,
        tls: { cert: 'cert.pem', key: 'key.pem' }, // relative to the config file
        audit: [{ type: 'file', path: 'audit.log' }],
        logLevel: 'warn',
      }),
    );
    const server = await serve(['--config', config], /not initialised/);
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      // A client that does not trust the certificate cannot talk to it: TLS is real.
      const untrusted = await run(['operator', 'status'], { CUSTOS_ADDR: server.url });
      expect(untrusted.code).toBe(2);
      expect(untrusted.stderr).toMatch(/cannot reach the server .*SELF_SIGNED/);

      const env = { CUSTOS_ADDR: server.url, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') };
      const init = JSON.parse(
        (await run(['operator', 'init', '-n', '1', '-t', '1', '--format', 'json'], env)).stdout,
      );
      expect((await run(['operator', 'unseal', init.keys[0]], env)).stdout).toMatch(/unsealed/);
      const withToken = { ...env, CUSTOS_TOKEN: init.root_token };
      expect((await run(['kv', 'put', 'tls/a', 'k=over-tls'], withToken)).code).toBe(0);
      expect((await run(['kv', 'get', '--field', 'k', 'tls/a'], withToken)).stdout).toBe(
        'over-tls\n',
      );
      const headers = await httpsHeaders(`${server.url}/v1/sys/health`, join(dir, 'cert.pem'));
      expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect((await run(['operator', 'seal'], withToken)).code).toBe(0);
    } finally {
      await stop(server.child);
    }
    const verified = await run(['audit', 'verify', join(dir, 'audit.log')]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/intact/);
  });
});

describe('custos server --config: tls.minVersion, tls.ciphers and a reload on SIGHUP', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-tls-reload-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The certificate the server presents to a new connection, or the handshake's error code. */
  const presented = (url: string, options: { maxVersion?: 'TLSv1.2' } = {}) =>
    new Promise<string>((resolve) => {
      const { hostname, port } = new URL(url);
      const socket = connect(
        { host: hostname, port: Number(port), rejectUnauthorized: false, ...options },
        () => {
          resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? 'none');
          socket.destroy();
        },
      );
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });

  it('refuses TLS 1.2 when 1.3 is the minimum, reloads the certificate on SIGHUP, and refuses a bad pair at start', async ({
    skip,
  }) => {
    if (!hasOpenssl) skip();
    const pki = createTestPki(dir);
    const first = pki.issue({ name: 'first' });
    // Expires 110 days after the first (issued for 90 days).
    const second = pki.issue({ name: 'second', notAfter: new Date(Date.now() + 200 * 86_400_000) });
    await copyFile(first.certFile, join(dir, 'live.pem'));
    await copyFile(first.keyFile, join(dir, 'live.key'));
    const config = join(dir, 'custos.json');
    const write = (tls: Record<string, unknown>) =>
      writeFile(
        config,
        JSON.stringify({
          listen: '127.0.0.1:0',
          storage: join(dir, 'custos.db'),
          tls: { cert: 'live.pem', key: 'live.key', ...tls },
          logLevel: 'warn',
          telemetry: { unauthenticated_metrics_access: true },
        }),
      );
    const fingerprint = async (file: string) =>
      new X509Certificate(await readFile(file)).fingerprint256;

    await write({ minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' });
    const server = await serve(['--config', config], /not initialised/);
    try {
      expect(await presented(server.url)).toBe(await fingerprint(first.certFile));
      expect(await presented(server.url, { maxVersion: 'TLSv1.2' })).toBe(
        'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
      );
      await copyFile(second.certFile, join(dir, 'live.pem'));
      await copyFile(second.keyFile, join(dir, 'live.key'));
      // The metrics follow the reload (a scraper needs no token with the telemetry option,
      // and reads them while the server is not initialised).
      const expiryDays = async () => {
        const text = await httpsText(`${server.url}/v1/sys/metrics?format=prometheus`, pki.caFile);
        const match = /^custos_tls_certificate_expiry_days\{certificate="server"\} (\S+)$/m.exec(
          text,
        );
        return Number(match?.[1]);
      };
      const before = await expiryDays();
      server.child.kill('SIGHUP');
      await expect.poll(() => server.output()).toMatch(/TLS certificate reloaded/);
      expect(await presented(server.url)).toBe(await fingerprint(second.certFile));
      const expiry = (file: string) =>
        readFile(file).then((pem) => Date.parse(new X509Certificate(pem).validTo));
      const added = ((await expiry(second.certFile)) - (await expiry(first.certFile))) / 86_400_000;
      // Both read the server's clock: what changed is the certificate (the scrapes are well
      // under a minute apart).
      expect(Math.abs((await expiryDays()) - before - added)).toBeLessThan(0.001);
    } finally {
      await stop(server.child);
    }

    await copyFile(first.keyFile, join(dir, 'live.key')); // no longer the certificate's key
    await write({});
    const refused = await run(['server', '--config', config]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('does not match the certificate');
  });
});
