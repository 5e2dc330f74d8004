import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds, type TestServer } from '../../../test/harness.js';

/** A GET with the target exactly as given (fetch would normalise `..` away). */
function rawGet(url: string, target: string, token: string) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest(
      { hostname, port, path: target, method: 'GET', headers: { 'x-vault-token': token } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

type Entry = {
  seq: number;
  type: string;
  request?: { path: string; data?: unknown };
  response?: { status: number };
};

describe.each(await storageKinds())('sys/audit-entries and sys/audit-verify on %s', (kind) => {
  let dir: string;
  let file: string;
  let s: TestServer;
  let collector: Socket;
  /** Built at run time: a value that must never be served back unhashed. */
  const canary = `canary-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-audit-entries-'));
    file = join(dir, 'audit.log');
    collector = createSocket('udp4');
    await new Promise<void>((resolve) => collector.bind(0, '127.0.0.1', resolve));
    s = await startTestServer(kind, {
      audit: [
        { type: 'file', path: file, name: 'file' },
        {
          type: 'syslog',
          name: 'shipped',
          host: '127.0.0.1',
          port: collector.address().port,
          transport: 'udp',
        },
      ],
      auditCheckpointEvery: 5,
    });
    expect(
      (await s.request('POST', 'secret/data/app/db', { body: { data: { password: canary } } }))
        .status,
    ).toBe(200);
    expect((await s.request('GET', 'secret/data/app/db')).status).toBe(200);
  });
  afterAll(async () => {
    await s.close();
    collector.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the latest entries newest first, as written (values HMACd), and pages to older', async () => {
    const first = await s.request('GET', 'sys/audit-entries/file?limit=5');
    expect(first.status).toBe(200);
    const entries = (first.body.data.entries as string[]).map((l) => JSON.parse(l) as Entry);
    expect(entries).toHaveLength(5);
    const seqs = entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(first.body.data.next_before).toBe(seqs.at(-1));
    // Every page down to the file's start: consecutive, no entry twice, the canary only hashed.
    const all: Entry[] = [...entries];
    let before = first.body.data.next_before as number | null;
    while (before !== null) {
      const page = await s.request('GET', `sys/audit-entries/file?limit=7&before=${before}`);
      expect(page.status).toBe(200);
      const got = (page.body.data.entries as string[]).map((l) => JSON.parse(l) as Entry);
      expect(got.every((e) => e.seq < (before as number))).toBe(true);
      all.push(...got);
      before = page.body.data.next_before;
    }
    const allSeqs = all.map((e) => e.seq);
    expect(allSeqs.at(-1)).toBe(1);
    expect(allSeqs).toEqual(allSeqs.map((_, i) => (allSeqs[0] as number) - i));
    const write = all.find(
      (e) => e.type === 'request' && e.request?.path === 'secret/data/app/db' && e.request.data,
    );
    const hash = (await s.request('POST', 'sys/audit-hash/file', { body: { input: canary } })).body
      .data.hash as string;
    expect(JSON.stringify(write)).toContain(hash);
    expect(JSON.stringify(all)).not.toContain(canary);
    // Byte for byte the lines the file holds.
    const again = await s.request('GET', 'sys/audit-entries/file?limit=200');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const bySeq = new Map(lines.map((l) => [JSON.parse(l).seq as number, l]));
    for (const line of again.body.data.entries as string[])
      expect(line).toBe(bySeq.get(JSON.parse(line).seq));
  });

  it('reading entries does not grow the log: a read of reads logs one HMAC per line served', async () => {
    for (let i = 0; i < 6; i++)
      expect((await s.request('GET', 'sys/audit-entries/file?limit=100')).status).toBe(200);
    const responses = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .filter(
        (l) => l.includes('"type":"response"') && l.includes('"path":"sys/audit-entries/file"'),
      );
    const sizes = responses.slice(-6).map((l) => Buffer.byteLength(l));
    // 100 HMACs (76 bytes each) and the entry around them: bounded, not growing read by read.
    for (const size of sizes) expect(size).toBeLessThan(100 * 80 + 4096);
  });

  it('is audited: the read of the entries is itself in the file', async () => {
    expect((await s.request('GET', 'sys/audit-entries/file?limit=1')).status).toBe(200);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('"path":"sys/audit-entries/file"');
  });

  it('refuses a limit out of bounds or not a number, and a before that is not an entry', async () => {
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'before=0', 'before=-3']) {
      const r = await s.request('GET', `sys/audit-entries/file?${query}`);
      expect(r.status, query).toBe(400);
    }
    const max = await s.request('GET', 'sys/audit-entries/file?limit=200');
    expect(max.status).toBe(200);
  });

  it('looks the device up by its exact name: variants and unknown names are 404 without echo', async () => {
    const unknown = `nodevice${randomBytes(6).toString('hex')}`;
    for (const name of [unknown, 'FILE', 'File', 'file%00', 'file%2f..', '%2e%2e', 'file%20']) {
      for (const route of ['audit-entries', 'audit-verify']) {
        const r =
          route === 'audit-entries'
            ? await rawGet(s.url, `/v1/sys/${route}/${name}`, 'root')
            : await s.request('POST', `sys/${route}/${name}`);
        // Refused at the boundary (400: an encoded NUL or slash) or not found (404).
        expect([400, 404], `${route} ${name}: ${r.status}`).toContain(r.status);
        expect(r.text).not.toContain(unknown);
        expect(r.text).not.toContain(dir);
      }
    }
    // Dot segments: never a file outside the device (normalised away or refused).
    for (const target of [
      '/v1/sys/audit-entries/..',
      '/v1/sys/audit-entries/../../etc/passwd',
      '/v1/sys/audit-entries/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/v1/sys/audit-entries/file/../..',
    ]) {
      const r = await rawGet(s.url, target, 'root');
      expect(r.status, target).toBeGreaterThanOrEqual(400);
      expect(r.text).not.toContain('root:x:0');
      expect(r.text).not.toContain(dir);
    }
  });

  it('answers a device the server cannot read back (syslog) clearly', async () => {
    for (const r of [
      await s.request('GET', 'sys/audit-entries/shipped'),
      await s.request('POST', 'sys/audit-verify/shipped'),
    ]) {
      expect(r.status).toBe(400);
      expect(r.body.errors.join(' ')).toMatch(/cannot be read back/);
    }
  });

  it('needs sudo: a token whose policy grants the path without sudo is refused', async () => {
    await s.policy('entries-plain', {
      'sys/audit-entries/*': ['read'],
      'sys/audit-verify/*': ['update'],
    });
    await s.policy('entries-sudo', {
      'sys/audit-entries/*': ['read', 'sudo'],
      'sys/audit-verify/*': ['update', 'sudo'],
    });
    const plain = await s.token({ policies: ['entries-plain'] });
    const sudo = await s.token({ policies: ['entries-sudo'] });
    const none = await s.token({ policies: ['default'] });
    for (const token of [plain, none]) {
      expect((await s.request('GET', 'sys/audit-entries/file', { token })).status).toBe(403);
      expect((await s.request('POST', 'sys/audit-verify/file', { token })).status).toBe(403);
    }
    expect((await s.request('GET', 'sys/audit-entries/file', { token: sudo })).status).toBe(200);
    expect((await s.request('POST', 'sys/audit-verify/file', { token: sudo })).status).toBe(200);
  });

  it('verifies the live chain, and names the first broken line once a line is edited', async () => {
    const intact = await s.request('POST', 'sys/audit-verify/file');
    expect(intact.status).toBe(200);
    expect(intact.body.data).toMatchObject({ device: 'file', ok: true, first_problem: null });
    expect(intact.body.data.last_seq).toBeGreaterThan(10);
    expect(intact.body.data.last_checkpoint_seq).toBeGreaterThan(0);

    // Edit line 4 in place (same length): its bytes change, so line 5 no longer chains to it.
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    const offset = lines.slice(0, 3).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    const line4 = lines[3] as string;
    const at = line4.indexOf('"type":"') + '"type":"'.length;
    const handle = await open(file, 'r+');
    try {
      const original = line4[at] as string;
      await handle.write(
        original === 'x' ? 'y' : 'x',
        offset + Buffer.byteLength(line4.slice(0, at)),
      );
    } finally {
      await handle.close();
    }
    const broken = await s.request('POST', 'sys/audit-verify/file');
    expect(broken.status).toBe(200);
    expect(broken.body.data.ok).toBe(false);
    expect(broken.body.data.first_problem.line).toBe(5);
    expect(broken.body.data.first_problem.reason).toMatch(/does not chain to the line before it/);
  });
});
