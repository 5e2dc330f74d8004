import { afterEach, describe, expect, it } from 'vitest';
import { memorySink } from '../../test/audit.js';
import { activeAuditBroker, auditRequest } from '../../test/audit-broker.js';
import type { AuditBroker } from './audit-broker.js';
import type { AuditSink } from './sinks.js';

// The audit bound (timeoutMs) judges the sink, not the server: a pause of the whole process
// (a busy machine, a long garbage collection) that outlasts the bound must not fail an entry
// the sink takes as soon as the process runs again. A sink that does not answer still fails
// the request within the bound.
describe('the audit bound', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function activeBroker(sink: AuditSink, timeoutMs: number): Promise<AuditBroker> {
    const active = await activeAuditBroker([sink], { timeoutMs });
    close = active.close;
    return active.broker;
  }

  /** Holds the event loop (the whole process) for `ms`, as a starved or paused process would. */
  function stall(ms: number): void {
    const until = Date.now() + ms;
    while (Date.now() < until) {}
  }

  const request = auditRequest;

  it('writes an entry submitted just before the process stalls past the bound', async () => {
    const sink = memorySink();
    const audit = await activeBroker(sink, 50);
    // Submitted from the check phase (where a batch's writes resolve and responses follow):
    // the sink is next asked in the next turn of the event loop, after its timers.
    const logged = await new Promise<unknown>((resolve) => {
      setImmediate(() => {
        const pending = audit.logRequest(request('stalled')).then(
          (record) => record.logged,
          (err: Error) => err.message,
        );
        stall(200);
        resolve(pending);
      });
    });
    expect(logged).toBe(true);
    expect(sink.lines.some((line) => line.includes('"stalled"'))).toBe(true);
  });

  it('still fails within the bound when the sink does not answer', async () => {
    const sink = memorySink();
    const audit = await activeBroker(sink, 50);
    sink.write = () => new Promise<void>(() => {}); // a sink that never answers
    await expect(audit.logRequest(request('stuck'))).rejects.toMatchObject({
      code: 'ERR_AUDIT_UNAVAILABLE',
      message: 'audit log unavailable',
    });
  });
});
