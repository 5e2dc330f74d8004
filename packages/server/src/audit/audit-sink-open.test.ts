import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memorySink, signer } from '../../test/audit.js';
import { activeAuditBroker, auditRequest } from '../../test/audit-broker.js';
import type { AuditBroker } from './audit-broker.js';
import { ChainedSink } from './audit-chain.js';
import { type AuditSink, createFileSink } from './sinks.js';

// A sink that cannot open its file (a missing directory, EACCES, EMFILE) or that answers
// outside its promised types fails that sink's entries: the other sinks keep logging, the
// failure is reported, and nothing escapes as an unhandled rejection (which ends the process).
describe('a sink that cannot open its file', () => {
  let close: (() => Promise<void>) | undefined;
  let dir: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-audit-open-'));
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    await close?.();
    close = undefined;
    process.off('unhandledRejection', onUnhandled);
    await rm(dir, { recursive: true, force: true });
  });

  async function activeBroker(
    sinks: AuditSink[],
    reported: string[],
    timeoutMs = 1000,
  ): Promise<AuditBroker> {
    const active = await activeAuditBroker(sinks, {
      timeoutMs,
      onSinkError: (sink, error) => void reported.push(`${sink}: ${error.message}`),
    });
    close = active.close;
    return active.broker;
  }

  const request = auditRequest;

  /** Lets promises left behind settle (and any unhandled rejection surface). */
  const quiet = () => new Promise((resolve) => setTimeout(resolve, 20));

  function named<Sink extends AuditSink>(name: string, sink: Sink): Sink {
    return Object.assign(sink, { name });
  }

  it('fails the entries of a file sink whose directory is missing; the other sink logs them', async () => {
    const kept = named('kept', memorySink());
    const reported: string[] = [];
    const audit = await activeBroker(
      [kept, createFileSink('lost', join(dir, 'missing', 'audit.log'))],
      reported,
    );
    expect(reported).toEqual([expect.stringMatching(/^lost: .*ENOENT/)]);
    await expect(audit.logRequest(request('first'))).resolves.toMatchObject({ logged: true });
    expect(kept.lines.some((line) => line.includes('"first"'))).toBe(true);
    await quiet();
    expect(unhandled).toEqual([]);
  });

  it('fails the entries of a sink whose startsFile rejects, every time it is asked', async () => {
    const kept = named('kept', memorySink());
    const failing = named('failing', memorySink());
    failing.startsFile = () => Promise.reject(new Error('EIO: the disk went away'));
    const reported: string[] = [];
    const audit = await activeBroker([kept, failing], reported);
    expect(reported).toEqual(['failing: EIO: the disk went away']);
    for (const id of ['one', 'two']) {
      await expect(audit.logRequest(request(id))).resolves.toMatchObject({ logged: true });
    }
    expect(kept.lines.filter((line) => line.includes('"type":"request"'))).toHaveLength(2);
    expect(failing.lines).toEqual([]);
    await quiet();
    expect(unhandled).toEqual([]);
  });

  it('settles a reopen whose file cannot be opened again, and goes on logging', async () => {
    const kept = named('kept', memorySink());
    const reported: string[] = [];
    const fileDir = join(dir, 'logs');
    await mkdir(fileDir);
    const audit = await activeBroker(
      [kept, createFileSink('rotated', join(fileDir, 'audit.log'))],
      reported,
    );
    expect(reported).toEqual([]);
    await rm(fileDir, { recursive: true });
    // Settles (reported, not thrown): a SIGHUP handler awaits it.
    await audit.reopen();
    expect(reported).toEqual([expect.stringMatching(/^rotated: .*ENOENT/)]);
    await expect(audit.logRequest(request('after'))).resolves.toMatchObject({ logged: true });
    expect(kept.lines.some((line) => line.includes('"after"'))).toBe(true);
    await quiet();
    expect(unhandled).toEqual([]);
  });

  it('reads a rotationDue that answers a plain boolean, not a promise', async () => {
    const sink = memorySink();
    // A custom sink written in JavaScript, outside the promised types.
    Object.assign(sink, { rotationDue: () => false });
    const audit = await activeBroker([sink], []);
    for (const id of ['one', 'two', 'three']) {
      await expect(audit.logRequest(request(id))).resolves.toMatchObject({ logged: true });
    }
    expect(sink.lines.filter((line) => line.includes('"type":"request"'))).toHaveLength(3);
    await quiet();
    expect(unhandled).toEqual([]);
  });

  it('opens the file again at the next write after a failed open, and closes a file never opened', async () => {
    const sink = createFileSink('file', join(dir, 'later', 'audit.log'));
    await expect(sink.write('{"first":1}')).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(join(dir, 'later'));
    await sink.write('{"second":2}');
    expect(await readFile(join(dir, 'later', 'audit.log'), 'utf8')).toBe('{"second":2}\n');
    await sink.close();
    const never = createFileSink('never', join(dir, 'missing', 'audit.log'));
    await expect(never.startsFile?.()).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(never.close?.()).resolves.toBeUndefined();
  });

  it('writes starts_file as true or false, whatever else startsFile answers', async () => {
    const sink = memorySink();
    sink.startsFile = async () => 0 as never; // a custom sink outside the promised types
    const chain = new ChainedSink(sink, { signer: signer() });
    await chain.open();
    await chain.close();
    const open = JSON.parse(sink.lines[0] as string) as Record<string, unknown>;
    expect(open).toMatchObject({ type: 'open', starts_file: false });
  });

  it('takes no entry once closed: the close entry and its checkpoint end the file', async () => {
    const sink = memorySink();
    const chain = new ChainedSink(sink, { signer: signer() });
    await chain.open();
    const closed = chain.close();
    const late = chain.append({ type: 'request', id: 'late' });
    await closed;
    await expect(late).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
      message: 'audit sink file is closed',
    });
    await expect(chain.append({ type: 'request', id: 'later' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
    });
    const types = sink.lines.map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types.slice(-2)).toEqual(['close', 'checkpoint']);
    expect(sink.lines.some((line) => line.includes('late'))).toBe(false);
  });

  it('settles a reopen within the bound when the sink does not answer', async () => {
    const kept = named('kept', memorySink());
    const stuck = named('stuck', memorySink());
    const reported: string[] = [];
    const audit = await activeBroker([kept, stuck], reported, 100);
    stuck.startsFile = () => new Promise<boolean>(() => {}); // never answers
    await audit.reopen();
    expect(reported).toEqual([expect.stringMatching(/^stuck: /)]);
    await expect(audit.logRequest(request('after'))).resolves.toMatchObject({ logged: true });
    await quiet();
    expect(unhandled).toEqual([]);
  });
});
