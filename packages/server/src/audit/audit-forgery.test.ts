import { describe, expect, it } from 'vitest';
import { fileText, memorySink, signer } from '../../test/audit.js';
import { ChainedSink, type CheckpointRecord, lineHash } from './audit-chain.js';
import { verifyAuditLog } from './audit-verify.js';

/**
 * Forgeries by an attacker who can rewrite the file but does not hold the checkpoint signing
 * key: everything a hash chain alone does not protect (every `prev` can be recomputed) must be
 * caught by what the checkpoint signatures cover.
 */

const START = Date.parse('2026-01-01T00:00:00.000Z');

/** open, 12 requests, close, checkpoint every 5 entries: checkpoints at seq 6, 12 and 17. */
async function closedLog(name = 'file') {
  const key = signer();
  const sink = { ...memorySink(), name };
  let t = START;
  const checkpoints: CheckpointRecord[] = [];
  const chain = new ChainedSink(sink, {
    signer: key,
    checkpointEvery: 5,
    now: () => new Date(t++),
    onCheckpoint: (c) => checkpoints.push(c),
  });
  await chain.open();
  for (let i = 0; i < 12; i++) await chain.append({ type: 'request', n: i });
  await chain.close();
  return { key, lines: [...sink.lines], checkpoints, at: new Date(t) };
}

/** Rewrites every `prev` from line `from` on, as anyone can: a hash chain needs no key. */
function rechain(lines: string[], from: number): string[] {
  const out = [...lines];
  for (let i = Math.max(from, 1); i < out.length; i++) {
    const entry = JSON.parse(out[i] as string) as Record<string, unknown>;
    entry.prev = lineHash(out[i - 1] as string);
    out[i] = JSON.stringify(entry);
  }
  return out;
}

/** Replaces line `index` (0-based) by `edit` of its parsed entry. */
function editLine(
  lines: readonly string[],
  index: number,
  edit: (entry: Record<string, unknown>) => void,
): string[] {
  const out = [...lines];
  const entry = JSON.parse(out[index] as string) as Record<string, unknown>;
  edit(entry);
  out[index] = JSON.stringify(entry);
  return out;
}

describe('audit forgeries without the signing key', () => {
  it('rechaining is self-consistent: only the checkpoint signatures can catch it', async () => {
    const { lines, key, at } = await closedLog();
    const rebuilt = rechain(lines, 1);
    expect(rebuilt).toEqual(lines); // rechaining an untouched log changes nothing
    expect(verifyAuditLog(fileText(rebuilt), { publicKey: key.pem, now: at }).ok).toBe(true);
  });

  it.each([
    ['a request before the first checkpoint', 2],
    ['a request between two checkpoints', 8],
    ['a request after the last regular checkpoint', 13],
  ])(
    'an edit of %s, with every later prev recomputed, breaks a checkpoint signature',
    async (_label, index) => {
      const { lines, key, at } = await closedLog();
      const edited = editLine(lines, index, (entry) => {
        entry.n = 999;
      });
      const forged = rechain(edited, index + 1);
      // No link is broken any more: what remains is the signature over the chain.
      const report = verifyAuditLog(fileText(forged), { publicKey: key.pem, now: at });
      expect(report.ok).toBe(false);
      expect(report.problems.join('\n')).not.toMatch(/does not chain/);
      expect(report.problems.join('\n')).toMatch(/checkpoint signature is invalid/);
      // Offline with the keys the file announces too (the attacker kept the open entry).
      expect(verifyAuditLog(fileText(forged), { now: at }).ok).toBe(false);
    },
  );

  it('removing a line and renumbering every later seq breaks a checkpoint signature', async () => {
    const { lines, key, at } = await closedLog();
    const removed = [...lines.slice(0, 3), ...lines.slice(4)];
    const renumbered = removed.map((line, i) =>
      i < 3 ? line : editLineText(line, (entry) => (entry.seq = i + 1)),
    );
    const report = verifyAuditLog(fileText(rechain(renumbered, 3)), {
      publicKey: key.pem,
      now: at,
    });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).not.toMatch(/missing|does not chain/);
    expect(report.problems.join('\n')).toMatch(/checkpoint signature is invalid/);
  });

  it.each([
    ['sink', (e: Record<string, unknown>) => (e.sink = 'other')],
    ['time', (e: Record<string, unknown>) => (e.time = new Date(START + 5).toISOString())],
    ['prev', (e: Record<string, unknown>) => (e.prev = 'f'.repeat(64))],
    // A seq moved on: the gap shows too, but the signature alone must not accept it.
    ['seq', (e: Record<string, unknown>) => (e.seq = 18)],
  ])(
    'an edit of the last checkpoint line’s %s is caught offline (its signature covers it)',
    async (_field, edit) => {
      const { lines, key, at } = await closedLog();
      const forged = editLine(lines, lines.length - 1, edit);
      const report = verifyAuditLog(fileText(forged), { publicKey: key.pem, now: at });
      expect(report.ok).toBe(false);
      expect(report.problems.join('\n')).toMatch(/line 17: checkpoint signature is invalid/);
    },
  );

  it("a checkpoint signature does not carry over to another sink's log at the same place", async () => {
    const { lines, key, at } = await closedLog('file');
    // The same lines claimed for another sink: every entry's sink renamed, chain rebuilt.
    const renamed = rechain(
      lines.map((line) =>
        editLineText(line, (entry) => {
          if (entry.sink !== undefined) entry.sink = 'other';
        }),
      ),
      1,
    );
    const report = verifyAuditLog(fileText(renamed), { publicKey: key.pem, now: at });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/checkpoint signature is invalid/);
  });

  it("a file replaced by another log of this server is caught by the server's latest checkpoint, even at the same seq", async () => {
    const key = signer();
    const write = async (tag: string) => {
      const sink = memorySink();
      const checkpoints: CheckpointRecord[] = [];
      let t = START;
      const chain = new ChainedSink(sink, {
        signer: key,
        checkpointEvery: 5,
        now: () => new Date(t++),
        onCheckpoint: (c) => checkpoints.push(c),
      });
      await chain.open();
      for (let i = 0; i < 4; i++) await chain.append({ type: 'request', n: i, tag });
      await chain.close();
      return {
        lines: [...sink.lines],
        latest: checkpoints.at(-1) as CheckpointRecord,
        at: new Date(t),
      };
    };
    const genuine = await write('genuine');
    const replacement = await write('replacement');
    expect(replacement.latest.seq).toBe(genuine.latest.seq);
    expect(replacement.latest.hash).not.toBe(genuine.latest.hash);
    const report = verifyAuditLog(fileText(replacement.lines), {
      publicKey: key.pem,
      now: replacement.at,
      expectedCheckpoint: genuine.latest,
    });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(
      new RegExp(`latest checkpoint \\(seq ${genuine.latest.seq}\\) is not in the file`),
    );
  });

  it('a checkpoint signed by a key the file never announced is a problem (no key given)', async () => {
    const { lines, at } = await closedLog();
    const forged = editLine(lines, lines.length - 1, (entry) => {
      entry.key_id = '0123456789abcdef';
    });
    const report = verifyAuditLog(fileText(forged), { now: at });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(
      /line 17: checkpoint signed by unknown key 0123456789abcdef/,
    );
  });

  it('a public key that cannot be read is refused, never replaced by the keys the file announces', async () => {
    // A whole file rewritten with the forger's own key announces that key in its open entry.
    // Given an unreadable key (a typo, a cut-off PEM, the wrong file), verification must not
    // fall back to the announced keys: that would pass the forgery as intact.
    const { lines, at } = await closedLog();
    const forger = signer();
    const forged: string[] = [];
    const sink = { ...memorySink(), name: 'file' };
    let t = Date.parse('2026-01-01T00:00:00.000Z');
    const chain = new ChainedSink(sink, {
      signer: forger,
      checkpointEvery: 5,
      now: () => new Date(t++),
    });
    await chain.open();
    for (let i = 0; i < lines.length - 5; i++) await chain.append({ type: 'request', n: i });
    await chain.close();
    forged.push(...sink.lines);
    expect(verifyAuditLog(fileText(forged), { now: at }).ok).toBe(true); // no key: self-consistent
    const pem = forger.pem;
    const unreadable = [
      'not a key',
      `${pem.slice(0, pem.length / 2)}`, // cut off
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      '', // an empty key file
      '@@@@', // not base64
    ];
    for (const publicKey of unreadable) {
      expect(() => verifyAuditLog(fileText(forged), { publicKey, now: at })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('a duplicated line is reported as such, not only as a broken link', async () => {
    const { lines, key, at } = await closedLog();
    const duplicated = [...lines.slice(0, 5), lines[4] as string, ...lines.slice(5)];
    const report = verifyAuditLog(fileText(duplicated), { publicKey: key.pem, now: at });
    expect(report.problems.join('\n')).toMatch(/line 6: seq 5 after 5 \(reordered or duplicated\)/);
  });

  it('a close entry without its checkpoint inside a file is reported as such', async () => {
    const key = signer();
    const lines: string[] = [];
    let t = START;
    const options = { signer: key, checkpointEvery: 100, now: () => new Date(t++) };
    const first = new ChainedSink(memorySink(lines), options);
    await first.open();
    await first.append({ type: 'request', n: 1 });
    await first.close(); // seq 3 close, seq 4 checkpoint
    const second = new ChainedSink(memorySink(lines), options);
    await second.open();
    await second.close();
    // The checkpoint after the first close removed, everything after renumbered and rechained.
    const removed = [...lines.slice(0, 3), ...lines.slice(4)].map((line, i) =>
      editLineText(line, (entry) => {
        entry.seq = i + 1;
      }),
    );
    const report = verifyAuditLog(fileText(rechain(removed, 1)), {
      publicKey: key.pem,
      now: new Date(t),
    });
    expect(report.problems.join('\n')).toMatch(
      /line 4: the close entry before it has no checkpoint after it \(the writer always signs a close at once\)/,
    );
  });
});

function editLineText(line: string, edit: (entry: Record<string, unknown>) => void): string {
  const entry = JSON.parse(line) as Record<string, unknown>;
  edit(entry);
  return JSON.stringify(entry);
}
