/**
 * `custos backup`, end to end through the real binary: pipes (binary stdin/stdout), atomic
 * `--out`, every kind of key, refusals with nothing left behind, and transit keys on a real
 * `custos server --dev`.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, type DevServer, startDevServer } from '../../../test/cli.js';

interface BinaryResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs `custos args…` with binary standard input and output. */
function custos(
  args: readonly string[],
  options: { stdin?: Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<BinaryResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      {
        encoding: 'buffer',
        maxBuffer: 1 << 30,
        env: { PATH: process.env.PATH, ...options.env },
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
    child.stdin?.end(options.stdin);
  });
}

const CANARY = 'CANARY-backup-passphrase-91c4';

describe('custos backup', () => {
  let dir: string;
  let n = 0;
  const path = (name: string) => join(dir, `${n++}-${name}`);
  const leftovers = async () => (await readdir(dir)).filter((f) => f.endsWith('.tmp'));
  const absent = async (file: string) =>
    expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-backup-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function keygen() {
    const identity = path('id.key');
    const result = await custos(['backup', 'keygen', '--out', identity]);
    expect(result.code, result.stderr).toBe(0);
    return { identity, recipient: result.stdout.toString().trim() };
  }

  async function secretFile(name: string, content: string) {
    const file = path(name);
    await writeFile(file, content, { mode: 0o600 });
    return file;
  }

  it('keygen writes a 0600 identity, prints only the recipient on stdout, and never replaces a file', async () => {
    const { identity, recipient } = await keygen();
    expect(recipient).toMatch(/^custos-backup-recipient-[A-Za-z0-9_-]{43}$/);
    expect((await stat(identity)).mode & 0o777).toBe(0o600);
    expect(await readFile(identity, 'utf8')).toContain(`# recipient: ${recipient}`);
    const again = await custos(['backup', 'keygen', '--out', identity]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists/);
  });

  it('pg_dump | custos backup encrypt -r … > db.cbk, then decrypt back through a pipe', async () => {
    const { identity, recipient } = await keygen();
    const dump = randomBytes(700_000);
    const sealed = await custos(['backup', 'encrypt', '--recipient', recipient], { stdin: dump });
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(sealed.stdout.subarray(0, 8).toString()).toBe('CUSTOSBK');
    const plain = await custos(['backup', 'decrypt', '--identity', identity], {
      stdin: sealed.stdout,
    });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.equals(dump)).toBe(true);
  });

  it('standard input redirected from a file (< db.sql) is read from where it stands, both ways', async () => {
    const { identity, recipient } = await keygen();
    // Over three batches, not a whole number of them: read ahead and the last chunk both matter.
    const data = randomBytes(3 * (1 << 20) + 12_345);
    const plain = path('db.sql');
    await writeFile(plain, data);
    /** `custos args…` with standard input the file `input`, `skip` bytes already read from it. */
    const fromFile = async (args: string[], input: string, skip = 0) => {
      const handle = await open(input, 'r');
      try {
        if (skip > 0) await handle.read(Buffer.alloc(skip), 0, skip, null);
        const child = spawn(process.execPath, [bin, ...args], {
          stdio: [handle.fd, 'pipe', 'pipe'],
          env: { PATH: process.env.PATH },
        });
        const out: Buffer[] = [];
        let stderr = '';
        child.stdout?.on('data', (piece: Buffer) => out.push(piece));
        child.stderr?.on('data', (piece: Buffer) => {
          stderr += piece.toString();
        });
        const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
        return { code, stdout: Buffer.concat(out), stderr };
      } finally {
        await handle.close();
      }
    };
    const sealed = await fromFile(['backup', 'encrypt', '-r', recipient], plain);
    expect(sealed.code, sealed.stderr).toBe(0);
    const sealedFile = path('db.cbk');
    await writeFile(sealedFile, sealed.stdout);
    const opened = await fromFile(['backup', 'decrypt', '-i', identity], sealedFile);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout.equals(data)).toBe(true);
    // Like cat, from the current offset: the first 1000 bytes were read by someone else.
    const rest = await fromFile(['backup', 'encrypt', '-r', recipient], plain, 1000);
    await writeFile(sealedFile, rest.stdout);
    const back = await custos(['backup', 'decrypt', '-i', identity, sealedFile]);
    expect(back.stdout.equals(data.subarray(1000))).toBe(true);
    // A damaged backup on redirected input: the typed error, exit 2.
    const damaged = Buffer.from(sealed.stdout);
    damaged[damaged.length - 100] = (damaged[damaged.length - 100] as number) ^ 1;
    await writeFile(sealedFile, damaged);
    const refused = await fromFile(['backup', 'decrypt', '-i', identity], sealedFile);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('ERR_DECRYPTION_FAILED');
  });

  /** Runs the child to its end, collecting standard output and error. */
  async function finished(child: ReturnType<typeof spawn>) {
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout?.on('data', (piece: Buffer) => out.push(piece));
    child.stderr?.on('data', (piece: Buffer) => {
      stderr += piece.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    return { code, stdout: Buffer.concat(out), stderr };
  }

  it('a shell pipe whose writer pauses mid-stream: every byte read, in order, both ways', async () => {
    const { identity, recipient } = await keygen();
    const first = path('part1');
    const second = path('part2');
    const data = randomBytes(2 * (1 << 20) + 777);
    await writeFile(first, data.subarray(0, 300_001));
    await writeFile(second, data.subarray(300_001));
    const sealed = await finished(
      spawn(
        'sh',
        [
          '-c',
          `{ cat "$1"; sleep 0.3; cat "$2"; } | "$3" "$4" backup encrypt -r "$5"`,
          'sh',
        ].concat([first, second, process.execPath, bin, recipient]),
        { env: { PATH: process.env.PATH } },
      ),
    );
    expect(sealed.code, sealed.stderr).toBe(0);
    const sealedFile = path('paused.cbk');
    await writeFile(sealedFile, sealed.stdout);
    const opened = await finished(
      spawn(
        'sh',
        [
          '-c',
          `cat "$1" | "$2" "$3" backup decrypt -i "$4"`,
          'sh',
          sealedFile,
          process.execPath,
          bin,
          identity,
        ],
        {
          env: { PATH: process.env.PATH },
        },
      ),
    );
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout.equals(data)).toBe(true);
  });

  it('a non-blocking pipe on standard input: nothing lost when a read would block', async () => {
    const { identity, recipient } = await keygen();
    const data = randomBytes(1 << 20);
    // Node starts its children with blocking standard input; a parent that is not Node may
    // leave the pipe non-blocking. python3 (there for node-gyp) sets O_NONBLOCK on fd 0, then
    // runs the CLI in its place, while the writer stays silent at first: reads answer EAGAIN.
    const nonBlocking = [
      'import fcntl, os, sys',
      'fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)',
      'os.execv(sys.argv[1], sys.argv[1:])',
    ].join('; ');
    const child = spawn(
      'python3',
      ['-c', nonBlocking, process.execPath, bin, 'backup', 'encrypt', '-r', recipient],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH } },
    );
    const result = finished(child);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let at = 0; at < data.length; at += 200_000) {
      child.stdin?.write(data.subarray(at, at + 200_000));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.stdin?.end();
    const sealed = await result;
    expect(sealed.code, sealed.stderr).toBe(0);
    const sealedFile = path('nonblocking.cbk');
    await writeFile(sealedFile, sealed.stdout);
    const back = await custos(['backup', 'decrypt', '-i', identity, sealedFile]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout.equals(data)).toBe(true);
  });

  it('files with --out, several recipients, verify, inspect, and rekey in place', async () => {
    const first = await keygen();
    const second = await keygen();
    const keyFile = await secretFile('backup.key', randomBytes(32).toString('hex'));
    const input = path('db.sql');
    const data = randomBytes(200_000);
    await writeFile(input, data);
    const sealed = path('db.cbk');
    const enc = await custos([
      'backup',
      'encrypt',
      input,
      '--out',
      sealed,
      '-r',
      first.recipient,
      '-r',
      second.recipient,
      '--key-file',
      keyFile,
    ]);
    expect(enc.code, enc.stderr).toBe(0);
    expect((await stat(sealed)).mode & 0o777).toBe(0o600);

    const inspect = await custos(['backup', 'inspect', sealed, '--json']);
    const info = JSON.parse(inspect.stdout.toString());
    expect(info.recipients.map((r: { type: string }) => r.type)).toEqual([
      'x25519',
      'x25519',
      'key',
    ]);
    const text = await custos(['backup', 'inspect'], { stdin: await readFile(sealed) });
    expect(text.stdout.toString()).toContain(second.recipient);

    const verify = await custos(['backup', 'verify', sealed, '--key-file', keyFile]);
    expect(verify).toMatchObject({ code: 0 });
    expect(verify.stdout.toString()).toBe('authentic: 200000 bytes in 4 chunks\n');

    const rekey = await custos([
      'backup',
      'rekey',
      sealed,
      '--identity',
      second.identity,
      '--to-key-file',
      keyFile,
    ]);
    expect(rekey.code, rekey.stderr).toBe(0);
    const out = path('restored.sql');
    const gone = await custos(['backup', 'decrypt', sealed, '-i', first.identity, '-o', out]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/ERR_BACKUP_KEY_MISMATCH/);
    await absent(out);
    const dec = await custos(['backup', 'decrypt', sealed, '--key-file', keyFile, '-o', out]);
    expect(dec.code, dec.stderr).toBe(0);
    expect((await readFile(out)).equals(data)).toBe(true);
    expect(await leftovers()).toEqual([]);
  });

  it('a passphrase file: the right one opens, a wrong one is refused without echo or output', async () => {
    const right = await secretFile('pass', `${CANARY}\n`);
    const wrong = await secretFile('wrong', `${CANARY}-not\n`);
    const input = path('db.sql');
    await writeFile(input, 'patient records');
    const sealed = path('db.cbk');
    const enc = await custos([
      'backup',
      'encrypt',
      input,
      '-o',
      sealed,
      '--passphrase-file',
      right,
    ]);
    expect(enc.code, enc.stderr).toBe(0);
    const out = path('out');
    const bad = await custos(['backup', 'decrypt', sealed, '--passphrase-file', wrong, '-o', out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/none of the given keys opens this backup.*passphrase \(Argon2id/);
    expect(bad.stderr).not.toContain(CANARY);
    await absent(out);
    const good = await custos(['backup', 'decrypt', sealed, '--passphrase-file', right, '-o', out]);
    expect(good.code, good.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe('patient records');
  });

  it('refuses a world-readable key, identity or passphrase file, writing nothing', async () => {
    const { identity, recipient } = await keygen();
    const keyFile = await secretFile('backup.key', randomBytes(32).toString('hex'));
    const input = path('db.sql');
    await writeFile(input, 'data');
    const sealed = path('db.cbk');
    expect((await custos(['backup', 'encrypt', input, '-o', sealed, '-r', recipient])).code).toBe(
      0,
    );
    const passphrase = await secretFile('pass', CANARY);
    await chmod(identity, 0o644);
    await chmod(keyFile, 0o644);
    await chmod(passphrase, 0o640);
    const out = path('out');
    for (const args of [
      ['backup', 'decrypt', sealed, '-i', identity, '-o', out],
      ['backup', 'encrypt', input, '--key-file', keyFile, '-o', out],
      ['backup', 'encrypt', input, '--passphrase-file', passphrase, '-o', out],
    ]) {
      const result = await custos(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/may be read by other users.*chmod 600.*ERR_INSECURE_FILE/);
      await absent(out);
    }
  });

  it('a tampered or truncated backup: decrypt exits 2 leaving no output, verify exits 1', async () => {
    const keyFile = await secretFile('backup.key', randomBytes(32).toString('hex'));
    const input = path('db.sql');
    await writeFile(input, randomBytes(300_000));
    const sealed = path('db.cbk');
    expect(
      (await custos(['backup', 'encrypt', input, '-o', sealed, '--key-file', keyFile])).code,
    ).toBe(0);
    const bytes = await readFile(sealed);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 100] = (flipped[bytes.length - 100] as number) ^ 4;
    const damaged: Array<[Buffer, RegExp]> = [
      [flipped, /ERR_DECRYPTION_FAILED/],
      [bytes.subarray(0, bytes.length - (bytes.length % 65552) - 65552), /ERR_/],
      [bytes.subarray(0, 10), /ERR_MALFORMED_CIPHERTEXT/],
    ];
    for (const [content, code] of damaged) {
      const file = path('damaged.cbk');
      await writeFile(file, content);
      const out = path('out');
      const dec = await custos(['backup', 'decrypt', file, '--key-file', keyFile, '-o', out]);
      expect(dec.code).toBe(2);
      expect(dec.stderr).toMatch(code);
      await absent(out);
      const verify = await custos(['backup', 'verify', file, '--key-file', keyFile]);
      expect(verify.code).toBe(1);
      expect(verify.stderr).toMatch(code);
    }
    expect(await leftovers()).toEqual([]);
  });

  it('usage mistakes exit 2 with the fix named', async () => {
    const none = await custos(['backup', 'encrypt', '-o', path('x')], { stdin: Buffer.from('x') });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /--recipient, --key-file, --passphrase-file, --transit-key, --keyring or --kms-env/,
    );
    const badRecipient = await custos(['backup', 'encrypt', '-r', 'age1abc'], {
      stdin: Buffer.from('x'),
    });
    expect(badRecipient.code).toBe(2);
    expect(badRecipient.stderr).toMatch(/starts with custos-backup-recipient-/);
  });

  describe('transit keys on a custos server', () => {
    const token = `root-${randomBytes(8).toString('hex')}`;
    let server: DevServer;
    let env: NodeJS.ProcessEnv;
    beforeAll(async () => {
      server = await startDevServer(token);
      env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: token };
      const response = await fetch(`${server.url}/v1/transit/keys/backups`, {
        method: 'POST',
        headers: { 'x-vault-token': token, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBeLessThan(300);
    }, 30_000);
    afterAll(async () => {
      await server?.stop();
    });

    it('encrypts with --transit-key and decrypts through the server; a wrong token leaves no output', async () => {
      const input = path('db.sql');
      const data = randomBytes(150_000);
      await writeFile(input, data);
      const sealed = path('db.cbk');
      const enc = await custos(
        ['backup', 'encrypt', input, '-o', sealed, '--transit-key', 'backups'],
        { env },
      );
      expect(enc.code, enc.stderr).toBe(0);
      const inspect = await custos(['backup', 'inspect', sealed]);
      expect(inspect.stdout.toString()).toContain('transit key "backups" (version 1)');
      const out = path('out');
      const dec = await custos(['backup', 'decrypt', sealed, '-o', out], { env });
      expect(dec.code, dec.stderr).toBe(0);
      expect((await readFile(out)).equals(data)).toBe(true);
      const denied = path('denied');
      const wrong = await custos(['backup', 'decrypt', sealed, '-o', denied], {
        env: { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: 'not-a-token' },
      });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/ERR_KMS_REMOTE/);
      expect(wrong.stderr).not.toContain(token);
      await absent(denied);
    });
  });
});
