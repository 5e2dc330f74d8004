/**
 * Test support: an audit broker activated behind a real barrier, on a fresh storage unsealed
 * with one share, and a request to log.
 */
import {
  AuditBroker,
  type AuditBrokerOptions,
  type AuditRequest,
} from '../src/audit/audit-broker.js';
import type { AuditSink } from '../src/audit/sinks.js';
import { createBarrier } from '../src/barrier/barrier.js';
import { openSealBed } from './seal-manager.js';

/** An active broker over `sinks`; `close` deactivates it and closes its storage. */
export async function activeAuditBroker(
  sinks: readonly AuditSink[],
  options: AuditBrokerOptions,
): Promise<{ broker: AuditBroker; close(): Promise<void> }> {
  const bed = await openSealBed();
  const [share] = await bed.seal.initialize(1, 1);
  await bed.seal.submitShare(share as Buffer);
  const broker = new AuditBroker(sinks, options);
  const seal = bed.seal;
  await broker.activate(
    createBarrier(bed.store, {
      keyring: () => seal.keyring(),
      reloadKeyring: () => seal.reloadKeyring(),
    }),
  );
  return {
    broker,
    async close() {
      await broker.deactivate();
      await bed.close();
    },
  };
}

/** A read of `secret/data/x` without a token, as the broker is handed it. */
export function auditRequest(id: string): AuditRequest {
  return {
    id,
    operation: 'read',
    path: 'secret/data/x',
    remoteAddress: '127.0.0.1',
    token: undefined,
    entry: undefined,
    data: undefined,
  };
}
