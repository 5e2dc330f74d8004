import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@custos/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { custos } from '../../../test/cli.js';

const ROOT = 'audit-root';

describe('custos audit new-file and verify --server', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-audit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Each command is a process of its own (about a second each on a busy machine).
  it('after a file emptied while sealed: requests fail with the reason, new-file starts an audited file, verify reports each file', {
    timeout: 90_000,
  }, async () => {
    const file = join(dir, 'audit.log');
    const server: RunningServer = await startServer({
      dev: { rootTokenId: ROOT },
      port: 0,
      logLevel: 'silent',
      storage: join(dir, 'custos.db'),
      audit: [{ type: 'file', path: file, name: 'file' }],
      auditCheckpointEvery: 3,
    });
    const env = { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: ROOT };
    /** The HTTP API directly, for the steps that are not what this test is about. */
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.url}/v1/${path}`, {
        method,
        headers: { 'x-vault-token': ROOT, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : JSON.parse(text) };
    };
    try {
      for (const n of [1, 2, 3])
        expect((await call('POST', 'secret/data/app/a', { data: { n: `${n}` } })).status).toBe(200);
      const live = await custos(['audit', 'verify', '--server', file], { env });
      expect(live.stderr).not.toMatch(/problem/);
      expect(live.code).toBe(0);
      const kept = join(dir, 'kept.log');
      expect((await call('POST', 'sys/seal')).status).toBe(204);
      await vi.waitFor(async () =>
        expect((await call('GET', 'sys/seal-status')).body.sealed).toBe(true),
      );
      await writeFile(kept, await readFile(file)); // an intact copy, taken while sealed
      await truncate(file, 0);
      expect((await custos(['operator', 'unseal', server.unsealKey as string], { env })).code).toBe(
        0,
      );

      const refused = await call('GET', 'secret/data/app/a');
      expect(refused.status).toBe(500);
      expect(refused.body.errors[0]).toMatch(
        /every sink was refused \(sink file: the file is empty, but the server recorded its checkpoint at seq \d+ in it/,
      );

      const started = await custos(['audit', 'new-file', 'file'], { env });
      expect(started.stderr).toBe('');
      expect(started.code).toBe(0);
      expect(started.stdout).toMatch(
        /started a new file for audit sink file at seq (\d+), chained to the last recorded checkpoint \(seq \d+, [0-9a-f]{16}…\)/,
      );
      expect((await call('GET', 'secret/data/app/a')).body.data.data).toEqual({ n: '3' });
      const again = await custos(['audit', 'new-file'], { env });
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/was not refused/);

      // The new file and the intact copy of the old one both verify against the server.
      const current = await custos(['audit', 'verify', '--server', file], { env });
      expect(current.stderr).not.toMatch(/problem/);
      expect(current.code).toBe(0);
      const old = await custos(['audit', 'verify', '--server', kept], { env });
      expect(old.stderr).toMatch(
        /note: an earlier file of this sink: the next one starts at seq \d+/,
      );
      expect(old.code).toBe(0);
      // A cut copy of the old one does not; nor does the emptied file as it was.
      const lines = (await readFile(kept, 'utf8')).trim().split('\n');
      const cut = join(dir, 'cut.log');
      await writeFile(cut, `${lines.slice(0, -2).join('\n')}\n`);
      const cutReport = await custos(['audit', 'verify', '--server', cut], { env });
      expect(cutReport.code).toBe(1);
      expect(cutReport.stderr).toMatch(
        /the server recorded as this file's end when the next file started \(seq \d+\) is not in the file/,
      );
      const emptied = join(dir, 'emptied.log');
      await writeFile(emptied, '');
      expect((await custos(['audit', 'verify', '--server', emptied], { env })).code).toBe(1);
      // The new file minus its first lines (cut from the front) does not verify either.
      const currentLines = (await readFile(file, 'utf8')).trim().split('\n');
      const front = join(dir, 'front.log');
      await writeFile(front, `${currentLines.slice(2).join('\n')}\n`);
      const frontReport = await custos(['audit', 'verify', '--server', front], { env });
      expect(frontReport.code).toBe(1);
      expect(frontReport.stderr).toMatch(/the file begins with a response entry/);
      await rename(file, join(dir, 'moved.log')); // leave nothing for the next test to trip on
    } finally {
      await server.close();
    }
  });

  it('verify: entries dated beyond --clock-skew after now are a problem', async () => {
    const file = join(dir, 'future.log');
    const server = await startServer({
      dev: { rootTokenId: ROOT },
      port: 0,
      logLevel: 'silent',
      audit: [{ type: 'file', path: file, name: 'file' }],
    });
    await server.close();
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    // Appended after the close as a restart would write (an open entry first: anything else
    // after a close is a problem of its own), then an entry, both dated `minutes` ahead.
    const inMinutes = (minutes: number) => {
      const out = [...lines];
      for (const type of ['open', 'request']) {
        const before = out.at(-1) as string;
        out.push(
          JSON.stringify({
            time: new Date(Date.now() + minutes * 60_000).toISOString(),
            seq: (JSON.parse(before) as { seq: number }).seq + 1,
            prev: createHash('sha256').update(before).digest('hex'),
            type,
          }),
        );
      }
      return out.slice(lines.length).join('\n');
    };
    await writeFile(file, `${[...lines, inMinutes(3)].join('\n')}\n`);
    expect((await custos(['audit', 'verify', file])).code).toBe(0);
    const strict = await custos(['audit', 'verify', '--clock-skew', '1m', file]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(
      /is later than the verification time .* by more than the allowed clock skew \(60 s\)/,
    );
    await writeFile(file, `${[...lines, inMinutes(60)].join('\n')}\n`);
    expect((await custos(['audit', 'verify', file])).code).toBe(1);
    const bad = await custos(['audit', 'verify', '--clock-skew', 'soon', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--clock-skew must be a whole number of seconds/);
  });

  it('verify FILE...: a rotated set in any order passes; a missing middle file, or a missing first, fails naming it', {
    timeout: 60_000,
  }, async () => {
    const sub = await mkdtemp(join(dir, 'rotated-'));
    const file = join(sub, 'audit.log');
    const server = await startServer({
      dev: { rootTokenId: ROOT },
      port: 0,
      logLevel: 'silent',
      audit: [{ type: 'file', path: file, name: 'file', maxBytes: 4096 }],
    });
    for (let i = 0; i < 16; i++) {
      const response = await fetch(`${server.url}/v1/secret/data/rotated/${i}`, {
        method: 'POST',
        headers: { 'x-vault-token': ROOT, 'content-type': 'application/json' },
        body: JSON.stringify({ data: { value: `${i}` } }),
      });
      expect(response.status).toBe(200);
    }
    // An earlier file against the server's records: moved aside at the checkpoint the next
    // file chains to, which is its complete end (not "not closed").
    const oldest = (await readdir(sub)).filter((n) => n !== 'audit.log').sort()[0] as string;
    const aside = await custos(['audit', 'verify', '--server', join(sub, oldest)], {
      env: { CUSTOS_ADDR: server.url, CUSTOS_TOKEN: ROOT },
    });
    expect(aside.code).toBe(0);
    expect(aside.stdout).toMatch(
      /end of the file: +moved aside at the checkpoint the next file chains to/,
    );
    expect(aside.stderr).toMatch(/it ends at the checkpoint the next file chains to \(seq \d+\)/);
    await server.close();
    const names = (await readdir(sub)).sort();
    expect(names.length).toBeGreaterThanOrEqual(3);
    const [current, ...rotated] = names.map((n) => join(sub, n)) as [string, ...string[]];
    const all = await custos(['audit', 'verify', current, ...rotated.reverse()]);
    expect(all.stderr).not.toMatch(/problem:/);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(
      new RegExp(`^${names.length} files: intact, one chain — seq 1\\.\\.\\d+`, 'm'),
    );
    rotated.reverse(); // oldest first again
    const middle = rotated[1] as string;
    const gap = await custos(['audit', 'verify', ...rotated.filter((f) => f !== middle), current]);
    expect(gap.code).toBe(1);
    expect(gap.stderr).toContain(`are missing between ${rotated[0]} and ${rotated[2] ?? current}`);
    const noStart = await custos(['audit', 'verify', ...rotated.slice(1), current]);
    expect(noStart.code).toBe(1);
    expect(noStart.stderr).toMatch(/a file is missing from the set/);
    const allowed = await custos([
      'audit',
      'verify',
      '--allow-earlier-files',
      ...rotated.slice(1),
      current,
    ]);
    expect(allowed.code).toBe(0);
    const unreadable = await custos(['audit', 'verify', current, join(sub, 'nope.log')]);
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toMatch(/cannot read .*nope\.log: ENOENT/);
  });
});
