import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageKinds } from '../../test/harness.js';
import { verifyAuditLog } from './audit-verify.js';

const CANARY = 'canary-audit-5d1f0e7c-never-in-the-log';
/** A number and a flag that must not reach the log as they are (only their HMACs). */
const NUMBER_CANARY = 987_654_321_987;
const RATIO_CANARY = 0.918_273_645;

/** Every scalar at any depth of `value`, with its JSON path. */
function scalars(value: unknown, path = '$'): [string, unknown][] {
  if (value === null || typeof value !== 'object') return [[path, value]];
  return Object.entries(value).flatMap(([k, v]) => scalars(v, `${path}.${k}`));
}

describe.each(await storageKinds())('audit log over HTTP on %s', (kind) => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-audit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records every request and response, HMACs every string, and verifies', async () => {
    const file = join(dir, 'audit.log');
    const s = await startTestServer(kind, {
      audit: [{ type: 'file', path: file, name: 'file' }],
      auditCheckpointEvery: 4,
    });
    try {
      await s.request('POST', 'secret/data/app/db', { body: { data: { password: CANARY } } });
      const read = await s.request('GET', 'secret/data/app/db');
      expect(read.body.data.data.password).toBe(CANARY);
      expect((await s.request('GET', 'secret/data/app/db', { token: 'cst.wrong' })).status).toBe(
        403,
      );
      const hash = await s.request('POST', 'sys/audit-hash/file', { body: { input: CANARY } });
      const publicKey = (await s.request('GET', 'sys/audit/public-key')).body.data
        .public_key as string;
      const checkpoint = await s.request('GET', 'sys/audit/checkpoints');
      expect(checkpoint.body.data.checkpoints[0]).toMatchObject({
        sink: 'file',
        seq: expect.any(Number),
      });
      await s.close();

      const text = await readFile(file, 'utf8');
      expect(text).not.toContain(CANARY);
      expect(text).toContain(hash.body.data.hash);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const entries = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      // Tokens appear only as HMACs (the test root token is literally "root", like the policy).
      for (const e of entries.filter((x) => x.request !== undefined)) {
        expect(e.request.client_token).toMatch(/^(hmac-sha256:[0-9a-f]{64})?$/);
      }
      const writes = entries.filter(
        (e) => e.type === 'request' && e.request.path === 'secret/data/app/db',
      );
      expect(writes.map((e) => e.request.operation)).toEqual(['create', 'read', 'read']);
      const denied = entries.find((e) => e.type === 'response' && e.response.status === 403);
      expect(denied.response.errors).toEqual(['permission denied']);
      expect(entries.at(-1).type).toBe('checkpoint');
      const report = verifyAuditLog(text, { publicKey });
      expect(report.problems).toEqual([]);
      expect(report.lastCheckpointSeq).toBe(report.lastSeq);
    } finally {
      await s.storage.cleanup();
    }
  });

  it('HMACs numbers and booleans too: only keys, arrays and null stay readable in data', async () => {
    const file = join(dir, 'scalars.log');
    const s = await startTestServer(kind, { audit: [{ type: 'file', path: file, name: 'file' }] });
    try {
      const secret = {
        pin: NUMBER_CANARY,
        ratio: RATIO_CANARY,
        enabled: true,
        off: false,
        none: null,
      };
      expect(
        (await s.request('POST', 'secret/data/app/pin', { body: { data: secret } })).status,
      ).toBe(200);
      const read = await s.request('GET', 'secret/data/app/pin');
      expect(read.body.data.data).toEqual(secret);
      const hashOf = async (input: unknown) =>
        (await s.request('POST', 'sys/audit-hash/file', { body: { input } })).body.data.hash;
      const pinHash = await hashOf(NUMBER_CANARY);
      expect(pinHash).toBe(await hashOf(String(NUMBER_CANARY))); // its canonical string
      const trueHash = await hashOf(true);
      // A token's auth block (lease_duration, renewable, num_uses…) is HMAC'd the same way.
      await s.token({ policies: ['default'], ttl: '1h', meta: { team: 'payments' } });
      expect(
        (await s.request('POST', 'sys/audit-hash/file', { body: { input: null } })).status,
      ).toBe(400);
      await s.close();

      const text = await readFile(file, 'utf8');
      expect(text).not.toContain(String(NUMBER_CANARY));
      expect(text).not.toContain(String(RATIO_CANARY));
      const entries = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const write = entries.find(
        (e) => e.type === 'request' && e.request.path === 'secret/data/app/pin',
      );
      expect(write.request.data.data).toEqual({
        pin: pinHash,
        ratio: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
        enabled: trueHash,
        off: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/),
        none: null,
      });
      const response = entries.find(
        (e) =>
          e.type === 'response' &&
          e.request.path === 'secret/data/app/pin' &&
          e.request.operation === 'read',
      );
      expect(response.response.data.data.pin).toBe(pinHash);
      // No number or boolean is left anywhere in request or response data, or in auth.
      for (const e of entries.filter((x) => x.type === 'request' || x.type === 'response')) {
        for (const block of [
          e.request.data,
          e.response?.data,
          e.response?.auth,
          e.auth?.metadata,
        ]) {
          for (const [path, value] of scalars(block ?? null)) {
            if (/\.(token_)?policies\.\d+$/.test(path)) continue; // policy names stay readable
            expect([path, typeof value]).not.toEqual([path, 'number']);
            expect([path, typeof value]).not.toEqual([path, 'boolean']);
          }
        }
      }
    } finally {
      await s.storage.cleanup();
    }
  });

  it('fails a request with 500 when no sink can write (a full disk), and serves once one can', async () => {
    const good = join(dir, 'good.log');
    const full = await startTestServer(kind, {
      audit: [{ type: 'file', path: '/dev/full', name: 'full' }],
    });
    const mixed = await startTestServer(kind, {
      audit: [
        { type: 'file', path: '/dev/full', name: 'full' },
        { type: 'file', path: good, name: 'good' },
      ],
    });
    try {
      const refused = await full.request('POST', 'secret/data/x', {
        body: { data: { a: CANARY } },
      });
      expect(refused).toMatchObject({ status: 500, body: { errors: ['audit log unavailable'] } });
      expect((await full.request('GET', 'secret/data/x')).status).toBe(500);
      expect((await full.request('GET', 'sys/health')).status).toBe(200); // the server keeps serving
      // One working sink is enough.
      expect(
        (await mixed.request('POST', 'secret/data/x', { body: { data: { a: 1 } } })).status,
      ).toBe(200);
      expect(await readFile(good, 'utf8')).toContain('secret/data/x');
    } finally {
      await full.close();
      await mixed.close();
    }
  });

  it('never hangs on a stuck sink: requests fail within the configured bound', async () => {
    const fifo = join(dir, 'stuck.fifo');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for writing blocks until a reader appears: a sink that never answers.
    const s = await startTestServer(kind, {
      audit: [{ type: 'file', path: fifo, name: 'stuck' }],
      auditTimeoutMs: 300,
    });
    try {
      // A hang would end this test at its timeout: answering at all is the point, so no clock here.
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          s.request('POST', 'secret/data/y', { body: { data: { a: 1 } } }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual([500, 500, 500, 500, 500]);
      for (const r of results) expect(r.body).toEqual({ errors: ['audit log unavailable'] });
      expect((await s.request('GET', 'sys/health')).status).toBe(200);
    } finally {
      // A reader releases the blocked open so the process can close cleanly.
      const reader = await open(fifo, 'r');
      await s.close();
      await reader.close();
    }
  });
});
