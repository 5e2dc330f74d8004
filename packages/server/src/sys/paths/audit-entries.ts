import { CustosError } from '@custos/core/errors';
import type { AuditBroker } from '../../audit/audit-broker.js';
import {
  type LiveVerification,
  MAX_ENTRIES_PAGE,
  recentEntries,
  verifyLiveFile,
} from '../../audit/audit-readback.js';
import { ServerError } from '../../errors.js';
import { ok } from '../../http/envelope.js';
import { field } from '../../http/field-schema.js';
import { type RouteGroup, route } from '../../http/route-spec.js';

/** What the read-back routes need. */
export interface AuditEntriesDeps {
  readonly audit: Pick<AuditBroker, 'sinkFile' | 'publicKey' | 'checkpoints' | 'fileStarts'>;
  readonly clock: () => number;
  /** Largest current file verified live (default `DEFAULT_VERIFY_MAX_BYTES`, 16 MiB). */
  readonly verifyMaxBytes?: number;
}

/**
 * `sys/audit-entries/<device>` (recent entries of a file device, newest first, as written) and
 * `sys/audit-verify/<device>` (the current file's chain checked now, as `custos audit verify
 * --server` checks it), both sudo. The device is looked up by its configured name, exactly: no
 * part of the request reaches the file system, and an unknown name is a 404 that does not
 * repeat it. Devices the server cannot read back answer `ERR_AUDIT_NOT_READABLE`.
 *
 * @example
 * ```ts
 * registerRouteGroups(app, [auditEntriesPaths({ audit, clock: Date.now })]);
 * ```
 */
export function auditEntriesPaths({ audit, clock, verifyMaxBytes }: AuditEntriesDeps): RouteGroup {
  /** One live check per device at a time: a second request shares the first one's answer. */
  const running = new Map<string, Promise<LiveVerification>>();
  const fileOf = (device: string): string => {
    const found = audit.sinkFile(device);
    if (found === undefined) throw new CustosError('ERR_NOT_FOUND', 'no audit device by that name');
    if (!found.readable)
      throw new ServerError(
        'ERR_AUDIT_NOT_READABLE',
        'this audit device cannot be read back by the server (only file devices can): read its entries where they are delivered',
      );
    return found.path;
  };
  return {
    name: 'sys/audit-entries',
    routes: [
      route({
        method: 'GET',
        path: '/v1/sys/audit-entries/:device',
        access: { sudo: true },
        fields: { limit: field.int({ default: 50 }), before: field.int() },
        handler: async (request, reply, { limit, before }) => {
          if (limit < 1 || limit > MAX_ENTRIES_PAGE)
            throw new CustosError(
              'ERR_INVALID_REQUEST',
              `limit must be between 1 and ${MAX_ENTRIES_PAGE}`,
            );
          if (before !== undefined && before < 1)
            throw new CustosError('ERR_INVALID_REQUEST', 'before must be a positive entry number');
          const page = await recentEntries(fileOf(request.params.device), { limit, before });
          return ok(request, reply, {
            device: request.params.device,
            entries: page.lines,
            next_before: page.nextBefore ?? null,
          });
        },
      }),
      route({
        method: 'POST',
        path: '/v1/sys/audit-verify/:device',
        access: { sudo: true },
        handler: async (request, reply) => {
          const device = request.params.device;
          const path = fileOf(device);
          let check = running.get(device);
          if (check === undefined) {
            check = verifyDevice(device, path).finally(() => running.delete(device));
            running.set(device, check);
          }
          const report = await check;
          return ok(request, reply, {
            device,
            ok: report.ok,
            first_problem: report.firstProblem ?? null,
            problems: report.problems,
            warnings: report.warnings,
            notes: report.notes,
            entries: report.entries,
            first_seq: report.firstSeq ?? null,
            last_seq: report.lastSeq ?? null,
            last_checkpoint_seq: report.lastCheckpointSeq ?? null,
            unsigned: report.unsigned ?? null,
            checked_bytes: report.checkedBytes,
            verified_at: new Date(clock()).toISOString(),
          });
        },
      }),
    ],
  };

  /**
   * Once more when the first check finds a problem: the server's records are taken before the
   * file is read (a checkpoint recorded is in the file by then), but a rotation between the
   * two starts a file the records do not have yet. A file that is broken is broken twice.
   */
  async function verifyDevice(device: string, path: string): Promise<LiveVerification> {
    const first = await verifyOnce(device, path);
    return first.ok ? first : verifyOnce(device, path);
  }

  function verifyOnce(device: string, path: string): Promise<LiveVerification> {
    // The server's records first, then the file: a checkpoint recorded is already in the file.
    const key = audit.publicKey();
    const latest = audit.checkpoints().find((c) => c.sink === device);
    const starts = audit.fileStarts()[device] ?? [];
    return verifyLiveFile(path, {
      now: new Date(clock()),
      ...(key === undefined ? {} : { publicKey: key.publicKey }),
      ...(latest === undefined
        ? {}
        : { expectedCheckpoint: { seq: latest.seq, hash: latest.hash } }),
      fileStarts: starts,
      ...(verifyMaxBytes === undefined ? {} : { maxBytes: verifyMaxBytes }),
    });
  }
}
