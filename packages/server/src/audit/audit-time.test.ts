import { describe, expect, it } from 'vitest';
import { fileText, memorySink, signer } from '../../test/audit.js';
import { ChainedSink, lineHash } from './audit-chain.js';
import { DEFAULT_CLOCK_SKEW_MS, verifyAuditLog } from './audit-verify.js';

const START = Date.parse('2026-01-01T00:00:00.000Z');
const MINUTE = 60_000;

/**
 * A log written at START, signed to its end (open, 3 requests, a checkpoint; one every 100).
 * Not closed: after a close only an open entry may follow, so appending there is a problem of
 * its own (audit-forged-retention.test.ts).
 */
async function signedLog() {
  const key = signer();
  const sink = memorySink();
  let t = START;
  const chain = new ChainedSink(sink, {
    signer: key,
    checkpointEvery: 100,
    now: () => new Date(t++),
  });
  await chain.open();
  for (let i = 0; i < 3; i++) await chain.append({ type: 'request', n: i });
  await chain.checkpoint();
  return { key, lines: [...sink.lines], end: t };
}

/** Appends unsigned entries chained to the file's last line, as anyone can without the key. */
function append(lines: readonly string[], times: readonly number[]): string[] {
  const out = [...lines];
  for (const ms of times) {
    const last = JSON.parse(out.at(-1) as string) as { seq: number };
    out.push(
      JSON.stringify({
        time: new Date(ms).toISOString(),
        seq: last.seq + 1,
        prev: lineHash(out.at(-1) as string),
        type: 'request',
        request: { path: 'secret/data/forged' },
      }),
    );
  }
  return out;
}

describe('audit verification of entry times', () => {
  it('the default clock skew is 5 minutes', () => {
    expect(DEFAULT_CLOCK_SKEW_MS).toBe(5 * MINUTE);
  });

  it('entries appended with a time in the future are a problem, not "not signed yet" forever', async () => {
    const { key, lines, end } = await signedLog();
    const now = new Date(end + MINUTE);
    const future = append(lines, [end + 365 * 24 * 60 * MINUTE]);
    const report = verifyAuditLog(fileText(future), { publicKey: key.pem, now });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(
      /line 6: time 2027-01-01T00:00:00\.00\dZ is later than the verification time .* by more than the allowed clock skew \(300 s\)/,
    );
    // Just beyond the default skew.
    const ahead = append(lines, [now.getTime() + 6 * MINUTE]);
    expect(
      verifyAuditLog(fileText(ahead), { publicKey: key.pem, now }).problems.join('\n'),
    ).toMatch(/line 6: time .* is later than the verification time/);
    // Within the skew, a young unsigned end is only a warning.
    const young = append(lines, [now.getTime() + 4 * MINUTE]);
    const within = verifyAuditLog(fileText(young), { publicKey: key.pem, now });
    expect(within.ok).toBe(true);
    expect(within.warnings.join('\n')).toMatch(/entries 6..6 are chained but not signed yet/);
  });

  it('the clock skew is configurable', async () => {
    const { key, lines, end } = await signedLog();
    const now = new Date(end + MINUTE);
    const ahead = append(lines, [now.getTime() + 4 * MINUTE]);
    const strict = verifyAuditLog(fileText(ahead), {
      publicKey: key.pem,
      now,
      clockSkewMs: MINUTE,
    });
    expect(strict.ok).toBe(false);
    expect(strict.problems.join('\n')).toMatch(/allowed clock skew \(60 s\)/);
  });

  it('entries going back in time beyond the skew are a problem; small steps back are not', async () => {
    const { key, lines, end } = await signedLog();
    const now = new Date(end + MINUTE);
    const back = append(lines, [end - 6 * MINUTE]);
    const report = verifyAuditLog(fileText(back), { publicKey: key.pem, now });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(
      /line 6: time .* is earlier than the entry before it \(.*\) by more than the allowed clock skew \(300 s\)/,
    );
    // A step back within the skew, judged while the unsigned entry is young: no problem.
    const jitter = append(lines, [end - 2_000]);
    const young = verifyAuditLog(fileText(jitter), { publicKey: key.pem, now: new Date(end) });
    expect(young.problems).toEqual([]);
  });

  it('an entry whose time is not a timestamp is a problem (it would escape the interval rule)', async () => {
    const { key, lines, end } = await signedLog();
    const forged = append(lines, [end]).map((line, i, all) =>
      i === all.length - 1 ? line.replace(/"time":"[^"]*"/, '"time":"soon"') : line,
    );
    const report = verifyAuditLog(fileText(forged), {
      publicKey: key.pem,
      now: new Date(end + 24 * 60 * MINUTE),
    });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/line 6: time "soon" is not a timestamp/);
  });
});
