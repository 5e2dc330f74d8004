import { describe, expect, it } from 'vitest';
import { memorySink, signer } from '../../test/audit.js';
import { ChainedSink, type CheckpointRecord, lineHash } from './audit-chain.js';
import { verifyAuditLog } from './audit-verify.js';
import type { AuditSink } from './sinks.js';

async function writeLog(count: number, every = 5) {
  const key = signer();
  const sink = memorySink();
  const checkpoints: CheckpointRecord[] = [];
  const chain = new ChainedSink(sink, {
    signer: key,
    checkpointEvery: every,
    onCheckpoint: (c) => checkpoints.push(c),
  });
  await chain.open();
  for (let i = 0; i < count; i++) {
    await chain.append({
      type: 'request',
      request: { path: `secret/data/k${i}`, data: { v: `hmac-sha256:${i}` } },
    });
  }
  await chain.checkpoint();
  return { key, sink, chain, checkpoints, text: `${sink.lines.join('\n')}\n` };
}

const replaceLine = (text: string, index: number, replacement: (line: string) => string) => {
  const lines = text.split('\n');
  lines[index] = replacement(lines[index] as string);
  return lines.join('\n');
};

describe('audit hash chain', () => {
  it('an intact log verifies, with consecutive seq, chained prev and valid checkpoints', async () => {
    const { text, key, checkpoints } = await writeLog(23);
    const report = verifyAuditLog(text, {
      publicKey: key.pem,
      expectedCheckpoint: checkpoints.at(-1) as CheckpointRecord,
    });
    expect(report).toMatchObject({ ok: true, problems: [], firstSeq: 1 });
    expect(report.lastSeq).toBe(report.lastCheckpointSeq);
    expect(report.entries).toBe(text.trim().split('\n').length);
    expect(checkpoints.length).toBeGreaterThanOrEqual(5);
  });

  it('detects an edited entry', async () => {
    const { text, key } = await writeLog(12);
    const edited = replaceLine(text, 4, (l) => l.replace('k3', 'kX'));
    const report = verifyAuditLog(edited, { publicKey: key.pem });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/line 6: does not chain/);
  });

  it('detects a removed entry', async () => {
    const { text, key } = await writeLog(12);
    const lines = text.split('\n');
    lines.splice(5, 1);
    const report = verifyAuditLog(lines.join('\n'), { publicKey: key.pem });
    expect(report.problems.join('\n')).toMatch(/missing \(removed\)/);
  });

  it('detects reordered entries', async () => {
    const { text, key } = await writeLog(12);
    const lines = text.split('\n');
    [lines[3], lines[4]] = [lines[4] as string, lines[3] as string];
    const report = verifyAuditLog(lines.join('\n'), { publicKey: key.pem });
    expect(report.problems.join('\n')).toMatch(/reordered/);
  });

  it("detects a log cut mid-line, and one cut after a checkpoint when the server's latest checkpoint is known", async () => {
    const { text, key, checkpoints } = await writeLog(23);
    expect(verifyAuditLog(text.slice(0, -20), { publicKey: key.pem }).problems.join('\n')).toMatch(
      /incomplete line/,
    );
    const lines = text.trim().split('\n');
    const earlierCheckpoint = lines.findIndex((l) => JSON.parse(l).type === 'checkpoint');
    const cut = `${lines.slice(0, earlierCheckpoint + 1).join('\n')}\n`;
    // Alone, a cut exactly after a checkpoint looks like an intact shorter log…
    expect(verifyAuditLog(cut, { publicKey: key.pem }).ok).toBe(true);
    // …but not against the latest checkpoint the server recorded.
    const report = verifyAuditLog(cut, {
      publicKey: key.pem,
      expectedCheckpoint: checkpoints.at(-1) as CheckpointRecord,
    });
    expect(report.problems.join('\n')).toMatch(/latest checkpoint .* is not in the file/);
  });

  it('detects a rewritten log signed with another key when the server key is given', async () => {
    const genuine = await writeLog(6);
    const forged = await writeLog(6);
    expect(verifyAuditLog(forged.text).ok).toBe(true); // self-consistent…
    const report = verifyAuditLog(forged.text, { publicKey: genuine.key.pem });
    expect(report.ok).toBe(false); // …but not signed by this server
    expect(report.problems.join('\n')).toMatch(/signature is invalid/);
  });

  it('detects a forged checkpoint signature and a non-JSON line', async () => {
    const { text, key } = await writeLog(6, 3);
    const lines = text.trim().split('\n');
    const index = lines.findIndex((l) => JSON.parse(l).type === 'checkpoint');
    const forged = replaceLine(text, index, (l) => {
      const entry = JSON.parse(l);
      entry.signature = Buffer.alloc(64, 1).toString('base64');
      return JSON.stringify(entry);
    });
    expect(verifyAuditLog(forged, { publicKey: key.pem }).problems.join('\n')).toMatch(
      /signature is invalid/,
    );
    expect(
      verifyAuditLog(
        replaceLine(text, 2, () => '{not json'),
        { publicKey: key.pem },
      ).problems.join('\n'),
    ).toMatch(/line 3: not valid JSON/);
  });

  it('continues the chain across a restart, in the same file', async () => {
    const first = await writeLog(4);
    const chain = new ChainedSink(memorySink(first.sink.lines), {
      signer: first.key,
      checkpointEvery: 100,
    });
    await chain.open();
    await chain.append({ type: 'request' });
    await chain.checkpoint();
    const text = `${first.sink.lines.join('\n')}\n`;
    const report = verifyAuditLog(text, { publicKey: first.key.pem });
    expect(report.problems).toEqual([]);
    expect(text.match(/"type":"open"/g)).toHaveLength(2);
  });

  it('does not advance the chain on a failed write, and fails fast when the sink is stuck', async () => {
    const key = signer();
    const lines: string[] = [];
    let failNext = false;
    const sink: AuditSink = {
      name: 'flaky',
      write: async (text) => {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
        lines.push(...text.split('\n'));
      },
      close: async () => {},
    };
    const chain = new ChainedSink(sink, { signer: key, checkpointEvery: 100 });
    await chain.open();
    failNext = true;
    await expect(chain.append({ type: 'request', n: 1 })).rejects.toThrow('disk full');
    await chain.append({ type: 'request', n: 2 });
    await chain.checkpoint();
    expect(verifyAuditLog(`${lines.join('\n')}\n`, { publicKey: key.pem }).ok).toBe(true);
    expect(lineHash(lines[0] as string)).toBe(JSON.parse(lines[1] as string).prev);

    const stuck = new ChainedSink(
      {
        name: 'stuck',
        write: () => new Promise(() => {}),
        close: async () => {},
      },
      { signer: key, maxQueued: 2 },
    );
    void stuck.append({ type: 'request' });
    void stuck.append({ type: 'request' });
    await expect(stuck.append({ type: 'request' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
    });
  });

  it('signs only what is unsigned: a checkpoint right after a checkpoint writes nothing', async () => {
    const { sink, chain } = await writeLog(2);
    const before = sink.lines.length;
    expect(JSON.parse(sink.lines.at(-1) as string).type).toBe('checkpoint');
    await chain.checkpoint();
    await chain.checkpoint();
    expect(sink.lines).toHaveLength(before);
  });

  it('signs before an entry exactly the interval after the first unsigned one', async () => {
    const key = signer();
    const sink = memorySink();
    const times = [0, 0, 10_000, 10_000].map(
      (ms) => new Date(Date.parse('2026-01-01T00:00:00Z') + ms),
    );
    const chain = new ChainedSink(sink, {
      signer: key,
      checkpointEvery: 100,
      checkpointIntervalMs: 10_000,
      now: () => times.shift() ?? new Date(Date.parse('2026-01-01T00:00:10Z')),
    });
    await chain.open(); // first unsigned entry at 0 s
    await chain.append({ type: 'request' }); // at 0 s
    await chain.append({ type: 'request' }); // at exactly 10 s: a checkpoint comes first
    expect(sink.lines.map((l) => JSON.parse(l).type)).toEqual([
      'open',
      'request',
      'checkpoint',
      'request',
    ]);
    await chain.close();
    const report = verifyAuditLog(`${sink.lines.join('\n')}\n`, {
      publicKey: key.pem,
      now: new Date(Date.parse('2026-01-01T00:00:11Z')),
    });
    expect(report.problems).toEqual([]);
  });
});
