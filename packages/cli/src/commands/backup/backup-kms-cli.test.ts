/**
 * `custos backup encrypt|rekey --kms-env` and the decrypting commands picking the KMS stanza from
 * the environment, through the real binary: AWS KMS against the KMS API of a real
 * `custos server --dev` (the AWS SDK with only the endpoint changed), a PKCS#11 token on SoftHSM2
 * (a token of its own), and a local KMS file. Refusals are typed, name what is missing, leave no
 * output, and never carry the plaintext or a credential.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAwsKms, LocalKms, openPkcs11Kms } from '@custos/core/kms';
import { generateBackupIdentity } from '@custos/core/stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, type DevServer, startDevServer } from '../../../test/cli.js';

interface BinaryResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs `custos args…` with binary standard input and output, and only `env` (and PATH). */
function custos(
  args: readonly string[],
  options: { stdin?: Buffer; env?: NodeJS.ProcessEnv } = {},
): Promise<BinaryResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { encoding: 'buffer', env: { PATH: process.env.PATH, ...options.env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
    child.stdin?.end(options.stdin);
  });
}

const CANARY = `CANARY-kms-backup-${randomBytes(6).toString('hex')}`;
const PLAIN = Buffer.concat([Buffer.from(`${CANARY}\n`), randomBytes(200_000)]);

let dir: string;
let n = 0;
const path = (name: string) => join(dir, `${n++}-${name}`);
const leftovers = async () => (await readdir(dir)).filter((f) => f.endsWith('.tmp'));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-backup-kms-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The stanzas of a backup file: type, body, and where the body starts. */
function stanzas(file: Buffer) {
  const count = file[10] as number;
  const out: { type: number; body: Buffer; start: number }[] = [];
  let at = 11;
  for (let i = 0; i < count; i++) {
    const length = file.readUInt16BE(at + 1);
    out.push({ type: file[at] as number, body: file.subarray(at + 3, at + 3 + length), start: at });
    at += 3 + length;
  }
  return out;
}

/** `file` with stanza `index` replaced by `body` (its length updated; the MAC left as it was). */
function replaceStanza(file: Buffer, index: number, body: Buffer): Buffer {
  const target = stanzas(file)[index] as { body: Buffer; start: number };
  const head = Buffer.from([file[target.start] as number, 0, 0]);
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([
    file.subarray(0, target.start),
    head,
    body,
    file.subarray(target.start + 3 + target.body.length),
  ]);
}

/** A KMS stanza's fields (FORMAT.md), to edit one and write it back. */
function readKms(body: Buffer) {
  let at = 0;
  const take = (n: number) => {
    at += n;
    return body.subarray(at - n, at);
  };
  const provider = take(take(1)[0] as number).toString('latin1');
  const reference = take(take(2).readUInt16BE(0)).toString('utf8');
  const fileIdAndSalt = take(32);
  const wrapped = take(take(2).readUInt16BE(0)).toString('latin1');
  return { provider, reference, fileIdAndSalt, wrapped, wrappedFileKey: body.subarray(at) };
}
function writeKms(kms: ReturnType<typeof readKms>): Buffer {
  const length = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  return Buffer.concat([
    Buffer.from([kms.provider.length]),
    Buffer.from(kms.provider, 'latin1'),
    length(Buffer.byteLength(kms.reference)),
    Buffer.from(kms.reference),
    kms.fileIdAndSalt,
    length(kms.wrapped.length),
    Buffer.from(kms.wrapped, 'latin1'),
    kms.wrappedFileKey,
  ]);
}

/** Every output of a run, checked for the plaintext canary and the given secrets. */
function clean(result: BinaryResult, ...secrets: string[]) {
  const seen = result.stderr + (result.code === 0 ? '' : result.stdout.toString());
  for (const secret of [CANARY, ...secrets]) expect(seen).not.toContain(secret);
}

describe('custos backup --kms-env with KMS_PROVIDER=aws (custos server KMS API, real HTTP)', () => {
  const token = `root-${randomBytes(8).toString('hex')}`;
  // The dev server's KMS API answers as this region and account.
  const ARN = 'arn:aws:kms:us-east-1:000000000000:key/backups';
  let server: DevServer;
  /** Credentials allowed only to make data keys (the host that writes backups). */
  let writer: { id: string; secret: string };
  /** Credentials allowed only to decrypt (the restore host). */
  let reader: { id: string; secret: string };

  const api = async (method: string, urlPath: string, body: unknown = {}) => {
    const response = await fetch(`${server.url}/v1/${urlPath}`, {
      method,
      headers: { 'x-vault-token': token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, urlPath).toBeLessThan(300);
    return response.status === 204 ? null : await response.json();
  };
  const accessKey = async (policy: string, paths: Record<string, string[]>) => {
    await api('POST', `sys/policies/acl/${policy}`, {
      policy: JSON.stringify({
        path: Object.fromEntries(
          Object.entries(paths).map(([p, capabilities]) => [p, { capabilities }]),
        ),
      }),
    });
    const issued = (await api('POST', 'aws/access-key', { policies: [policy] })) as {
      data: { access_key_id: string; secret_access_key: string };
    };
    return { id: issued.data.access_key_id, secret: issued.data.secret_access_key };
  };
  const envFor = (who: { id: string; secret: string }, more: Record<string, string> = {}) => ({
    KMS_PROVIDER: 'aws',
    AWS_REGION: 'us-east-1',
    AWS_KMS_KEY_ID: 'backups',
    AWS_KMS_ACCOUNT_ID: '000000000000',
    AWS_ENDPOINT_URL_KMS: server.url,
    AWS_ACCESS_KEY_ID: who.id,
    AWS_SECRET_ACCESS_KEY: who.secret,
    AWS_MAX_ATTEMPTS: '1',
    ...more,
  });

  beforeAll(async () => {
    server = await startDevServer(token);
    await api('POST', 'transit/keys/backups');
    await api('POST', 'transit/keys/other');
    writer = await accessKey('backup-writer', {
      'transit/datakey/plaintext/backups': ['update'],
      'transit/keys/backups': ['read'],
      'aws/kms/*': ['read', 'list'],
    });
    reader = await accessKey('backup-reader', {
      'transit/decrypt/backups': ['update'],
      'aws/kms/*': ['read', 'list'],
    });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a writer that cannot decrypt encrypts; the restore host decrypts, verifies, inspects', async () => {
    const x = generateBackupIdentity();
    const sealed = path('db.cbk');
    const encrypted = await custos(
      ['backup', 'encrypt', '--kms-env', '-r', x.recipient, '-o', sealed],
      { stdin: PLAIN, env: envFor(writer) },
    );
    expect(encrypted.code, encrypted.stderr).toBe(0);
    clean(encrypted, writer.secret);

    const inspect = await custos(['backup', 'inspect', sealed, '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    const info = JSON.parse(inspect.stdout.toString()) as {
      recipients: Record<string, unknown>[];
    };
    expect(info.recipients.map((r) => r.type)).toEqual(['x25519', 'kms']);
    expect(info.recipients[1]).toMatchObject({
      provider: 'aws',
      keyReference: ARN,
      summary: `AWS KMS key "${ARN}" (KMS_PROVIDER=aws)`,
    });

    const out = path('db.sql');
    const decrypted = await custos(['backup', 'decrypt', sealed, '-o', out], {
      env: envFor(reader),
    });
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(await readFile(out)).toEqual(PLAIN);
    // To standard output, and verify, the same way.
    const piped = await custos(['backup', 'decrypt', sealed], { env: envFor(reader) });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toEqual(PLAIN);
    const verified = await custos(['backup', 'verify', sealed], { env: envFor(reader) });
    expect(verified.code, verified.stderr).toBe(0);

    // The writer's credentials make backups, and cannot open them (least privilege).
    const denied = await custos(['backup', 'decrypt', sealed, '-o', path('no.sql')], {
      env: envFor(writer),
    });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/ERR_PERMISSION_DENIED/);
    clean(denied, writer.secret);
    expect(await leftovers()).toEqual([]);
  });

  it('names what is missing: no KMS_PROVIDER, a missing variable, refused credentials', async () => {
    const sealed = path('db.cbk');
    const encrypted = await custos(['backup', 'encrypt', '--kms-env', '-o', sealed], {
      stdin: PLAIN,
      env: envFor(writer),
    });
    expect(encrypted.code, encrypted.stderr).toBe(0);

    const out = path('out.sql');
    const none = await custos(['backup', 'decrypt', sealed, '-o', out]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/ERR_BACKUP_KEY_MISMATCH/);
    expect(none.stderr).toContain(`AWS KMS key "${ARN}" (KMS_PROVIDER=aws)`);

    const missing = await custos(['backup', 'decrypt', sealed, '-o', out], {
      env: { ...envFor(reader), AWS_REGION: '' },
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ERR_KMS_CONFIG/);
    expect(missing.stderr).toMatch(/AWS_REGION/);

    const secret = 'x'.repeat(40);
    const refused = await custos(['backup', 'decrypt', sealed, '-o', out], {
      env: envFor({ id: reader.id, secret }),
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ERR_KMS_LOGIN_FAILED/);
    clean(refused, secret);

    // Encrypting without the settings fails before reading anything, and writes nothing.
    const unset = await custos(['backup', 'encrypt', '--kms-env', '-o', path('never.cbk')], {
      stdin: PLAIN,
      env: { KMS_PROVIDER: 'aws', AWS_REGION: 'us-east-1' },
    });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/ERR_KMS_CONFIG/);
    expect(unset.stderr).toMatch(/AWS_KMS_KEY_ID/);
    // A role that may not make data keys: refused, and no backup file left behind.
    const notAllowed = path('denied.cbk');
    const denied = await custos(['backup', 'encrypt', '--kms-env', '-o', notAllowed], {
      stdin: PLAIN,
      env: envFor(reader),
    });
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/ERR_PERMISSION_DENIED/);
    expect(existsSync(notAllowed)).toBe(false);
    for (const result of [none, missing, refused, unset, denied]) clean(result, reader.secret);
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await leftovers()).toEqual([]);
  });

  it('refuses a stanza moved to another file, an edited key reference, another key', async () => {
    const [a, b] = [path('a.cbk'), path('b.cbk')];
    for (const file of [a, b]) {
      const result = await custos(['backup', 'encrypt', '--kms-env', '-o', file], {
        stdin: PLAIN,
        env: envFor(writer),
      });
      expect(result.code, result.stderr).toBe(0);
    }
    const fileA = await readFile(a);
    const fileB = await readFile(b);
    const stanzaA = stanzas(fileA)[0] as { body: Buffer };
    const attempt = async (bytes: Buffer) => {
      const tampered = path('tampered.cbk');
      await writeFile(tampered, bytes);
      const out = path('tampered.sql');
      const result = await custos(['backup', 'decrypt', tampered, '-o', out], {
        env: envFor(reader),
      });
      clean(result, reader.secret);
      expect(existsSync(out)).toBe(false);
      return result;
    };

    const moved = await attempt(replaceStanza(fileB, 0, stanzaA.body));
    expect(moved.code).toBe(2);
    expect(moved.stderr).toMatch(/ERR_DECRYPTION_FAILED/);

    // The key reference edited (…key/backups → …key/backupt): not the key the data key names.
    const kms = readKms(stanzaA.body);
    expect(kms.reference).toBe(ARN);
    const edited = writeKms({ ...kms, reference: `${ARN.slice(0, -1)}t` });
    const renamed = await attempt(replaceStanza(fileA, 0, edited));
    expect(renamed.code).toBe(2);
    expect(renamed.stderr).toMatch(/ERR_BACKUP_KEY_MISMATCH/);
    expect(renamed.stderr).toContain(`${ARN.slice(0, -1)}t`);

    // Both the reference and the ARN inside the wrapped data key pointed at another key.
    const otherArn = `${ARN.slice(0, -'backups'.length)}other`;
    const other = writeKms({
      ...kms,
      reference: otherArn,
      wrapped: kms.wrapped.replace(ARN, otherArn),
    });
    const otherKey = await attempt(replaceStanza(fileA, 0, other));
    expect(otherKey.code).toBe(2);
    expect(otherKey.stderr).toMatch(/ERR_(PERMISSION_DENIED|DECRYPTION_FAILED)/);

    // The stanza's data key, handed to the AWS provider as a field's: the KMS refuses the
    // field contexts, and opens it only for its own file id.
    const aws = createAwsKms({
      keyId: 'backups',
      region: 'us-east-1',
      endpoint: server.url,
      clientConfig: {
        credentials: { accessKeyId: reader.id, secretAccessKey: reader.secret },
        maxAttempts: 1,
      },
    });
    try {
      for (const context of [{}, { tenantId: 'acme' }]) {
        await expect(aws.unwrapDataKey(kms.wrapped, context)).rejects.toMatchObject({
          code: 'ERR_DECRYPTION_FAILED',
        });
      }
      const fileId = kms.fileIdAndSalt.subarray(0, 16).toString('hex');
      await expect(
        aws.unwrapDataKey(kms.wrapped, { backupFileId: 'f'.repeat(32) }),
      ).rejects.toMatchObject({ code: 'ERR_DECRYPTION_FAILED' });
      expect(await aws.unwrapDataKey(kms.wrapped, { backupFileId: fileId })).toHaveLength(32);
    } finally {
      await aws.close();
    }

    // A reader with another provider configured does not open it, and says which it needs.
    const local = await custos(['backup', 'decrypt', a, '-o', path('x.sql')], {
      env: { KMS_PROVIDER: 'local', LOCAL_KMS_FILE: path('none.json'), KMS_KEY_NAME: 'x' },
    });
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/ERR_BACKUP_KEY_MISMATCH/);
    expect(local.stderr).toContain('KMS_PROVIDER=aws');
    expect(await leftovers()).toEqual([]);
  });

  it('rekey moves an X25519 backup to the KMS without re-encrypting', async () => {
    const x = generateBackupIdentity();
    const identity = path('id.key');
    await writeFile(identity, `${x.identity}\n`, { mode: 0o600 });
    const sealed = path('db.cbk');
    const encrypted = await custos(['backup', 'encrypt', '-r', x.recipient, '-o', sealed], {
      stdin: PLAIN,
    });
    expect(encrypted.code, encrypted.stderr).toBe(0);
    const before = await readFile(sealed);
    const rekeyed = await custos(['backup', 'rekey', sealed, '-i', identity, '--to-kms-env'], {
      env: envFor(writer),
    });
    expect(rekeyed.code, rekeyed.stderr).toBe(0);
    const after = await readFile(sealed);
    // Same payload, byte for byte.
    expect(after.subarray(after.length - 1000)).toEqual(before.subarray(before.length - 1000));
    const decrypted = await custos(['backup', 'decrypt', sealed], { env: envFor(reader) });
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(decrypted.stdout).toEqual(PLAIN);
    // To a pipe, the refusal is the typed error of the command (exit 2), not a crash of stdout.
    const old = await custos(['backup', 'decrypt', sealed, '-i', identity]);
    expect(old.code, old.stderr).toBe(2);
    expect(old.stderr).toMatch(
      /^custos: none of the given keys opens this backup.*ERR_BACKUP_KEY_MISMATCH/,
    );
    expect(old.stderr).not.toMatch(/\n\s+at /);
    expect(old.stdout.length).toBe(0);
  });
});

describe('custos backup --kms-env with KMS_PROVIDER=pkcs11 (SoftHSM2)', () => {
  const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
  const TOKEN = 'custos-backup-test';
  let pin: string;
  let conf: string;
  const env = (more: Record<string, string> = {}) => ({
    KMS_PROVIDER: 'pkcs11',
    PKCS11_LIBRARY: LIBRARY,
    PKCS11_PIN: pin,
    PKCS11_KEY_LABEL: 'backups',
    PKCS11_TOKEN_LABEL: TOKEN,
    SOFTHSM2_CONF: conf,
    ...more,
  });

  beforeAll(async () => {
    if (!existsSync(LIBRARY)) throw new Error(`${LIBRARY} is missing: apt-get install softhsm2`);
    const tokens = await mkdtemp(join(dir, 'softhsm-'));
    conf = join(tokens, 'softhsm2.conf');
    await writeFile(
      conf,
      `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    pin = randomBytes(8).toString('hex');
    const soPin = randomBytes(8).toString('hex');
    execFileSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', TOKEN, '--so-pin', soPin, '--pin', pin],
      { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe' },
    );
    const previous = process.env.SOFTHSM2_CONF;
    process.env.SOFTHSM2_CONF = conf;
    try {
      for (const keyLabel of ['backups', 'other']) {
        const kms = await openPkcs11Kms({
          library: LIBRARY,
          tokenLabel: TOKEN,
          pin,
          keyLabel,
          createKeyIfMissing: true,
        });
        await kms.close();
      }
    } finally {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF;
      else process.env.SOFTHSM2_CONF = previous;
    }
  });

  it('encrypts and decrypts on the token; another key label or a wrong PIN is refused', async () => {
    const sealed = path('hsm.cbk');
    const encrypted = await custos(['backup', 'encrypt', '--kms-env', '-o', sealed], {
      stdin: PLAIN,
      env: env(),
    });
    expect(encrypted.code, encrypted.stderr).toBe(0);
    clean(encrypted, pin);
    const inspect = await custos(['backup', 'inspect', sealed]);
    expect(inspect.stdout.toString()).toContain(
      'PKCS#11 token key "backups" (KMS_PROVIDER=pkcs11)',
    );

    const decrypted = await custos(['backup', 'decrypt', sealed], { env: env() });
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(decrypted.stdout).toEqual(PLAIN);

    const otherLabel = await custos(['backup', 'decrypt', sealed, '-o', path('x')], {
      env: env({ PKCS11_KEY_LABEL: 'other' }),
    });
    expect(otherLabel.code).toBe(2);
    expect(otherLabel.stderr).toMatch(/ERR_BACKUP_KEY_MISMATCH/);
    expect(otherLabel.stderr).toContain('PKCS#11 token key "backups"');

    const wrongPin = randomBytes(8).toString('hex');
    const refused = await custos(['backup', 'decrypt', sealed, '-o', path('x')], {
      env: env({ PKCS11_PIN: wrongPin }),
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ERR_KMS_LOGIN_FAILED/);
    for (const result of [decrypted, otherLabel, refused]) clean(result, pin, wrongPin);

    // The label edited to the token's other key: its wrapped data key does not open under it.
    const file = await readFile(sealed);
    const relabelled = writeKms({
      ...readKms((stanzas(file)[0] as { body: Buffer }).body),
      reference: 'other',
    });
    const tampered = path('relabelled.cbk');
    await writeFile(tampered, replaceStanza(file, 0, relabelled));
    const edited = await custos(['backup', 'decrypt', tampered, '-o', path('x')], {
      env: env({ PKCS11_KEY_LABEL: 'other' }),
    });
    expect(edited.code).toBe(2);
    expect(edited.stderr).toMatch(/ERR_DECRYPTION_FAILED/);
    expect(await leftovers()).toEqual([]);
  });
});

describe('custos backup --kms-env with KMS_PROVIDER=local', () => {
  it('round-trips through a local KMS file, mixed with a passphrase; decrypt needs the file', async () => {
    const kmsFile = path('kms.json');
    const local = new LocalKms();
    local.createKey('backups');
    await local.save(kmsFile);
    await chmod(kmsFile, 0o600);
    const env = { KMS_PROVIDER: 'local', LOCAL_KMS_FILE: kmsFile, KMS_KEY_NAME: 'backups' };
    const passphrase = path('pass.txt');
    const secret = `pass-${randomBytes(8).toString('hex')}`;
    await writeFile(passphrase, secret, { mode: 0o600 });

    const sealed = path('local.cbk');
    const encrypted = await custos(
      ['backup', 'encrypt', '--kms-env', '--passphrase-file', passphrase, '-o', sealed],
      { stdin: PLAIN, env },
    );
    expect(encrypted.code, encrypted.stderr).toBe(0);
    const decrypted = await custos(['backup', 'decrypt', sealed], { env });
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(decrypted.stdout).toEqual(PLAIN);
    const byPassphrase = await custos([
      'backup',
      'decrypt',
      sealed,
      '--passphrase-file',
      passphrase,
    ]);
    expect(byPassphrase.code, byPassphrase.stderr).toBe(0);
    expect(byPassphrase.stdout).toEqual(PLAIN);

    // The KMS file gone: a clear error naming it, nothing written.
    await rm(kmsFile);
    const out = path('gone.sql');
    const gone = await custos(['backup', 'decrypt', sealed, '-o', out], { env });
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/ERR_KMS_CONFIG/);
    expect(gone.stderr).toContain('LOCAL_KMS_FILE');
    for (const result of [encrypted, decrypted, byPassphrase, gone]) clean(result, secret);
    expect(existsSync(out)).toBe(false);
  });
});
