import type { BarrierWriter } from '../barrier/barrier.js';
import { ROTATION } from '../storage/layout.js';
import type { MountDataHooks } from '../sys/mount-table.js';
import type { ApprovalRequest } from './approval-store.js';
import { historyName, type RotationRun } from './rotation-store.js';

/**
 * The areas keyed by a secret's name (`<area><mount path><key>`), in the order they are moved
 * or removed: the policy first (a run starts only while it is there, replaced at its revision
 * in the same transaction), then the run (a history entry or a job is written only while it is
 * there, likewise): on PostgreSQL a writer either committed before the move read an area, or
 * conflicts with it and finds the name gone when it runs again.
 */
const AREAS = [ROTATION.policy, ROTATION.run, ROTATION.job, ROTATION.history, ROTATION.lease];

const full = (area: string) => ROTATION.prefix + area;

/** `data.secret` renamed from `from` to `to` (mount paths with their `/`), when it has one. */
function renamed(data: unknown, from: string, to: string): unknown {
  if (typeof data !== 'object' || data === null) return data;
  const secret = (data as { secret?: unknown }).secret;
  if (typeof secret !== 'string' || !secret.startsWith(from)) return data;
  return { ...data, secret: to + secret.slice(from.length) };
}

/**
 * A run or job that was held by a node is released by the move: its node finds it gone at the
 * next renewal (its step's signal fires, it saves nothing more), and any node takes it up at the
 * new name at once.
 */
function released(area: string, data: unknown): unknown {
  if (typeof data !== 'object' || data === null) return data;
  const held = data as { state?: unknown; owner?: unknown };
  if (area === ROTATION.run && held.state === 'running') return { ...data, lease_until_ms: 0 };
  if (area === ROTATION.job && held.state === 'running') {
    const { owner: _owner, lease_until_ms: _lease, ...rest } = data as Record<string, unknown>;
    return { ...rest, state: 'pending' };
  }
  return data;
}

/**
 * Moves one entry: replaced at the revision read first (a writer that changed it meanwhile
 * makes this a conflict, and the mount table's transaction runs again on fresh data), then
 * written at the new path (re-encrypted there: the barrier binds a value to its path) and
 * removed at the old one.
 */
async function moveEntry(w: BarrierWriter, area: string, path: string, from: string, to: string) {
  const entry = await w.read<unknown>(path);
  if (entry === undefined) return;
  await w.replace(path, entry.data, entry.revision);
  const rest = path.slice(full(area).length + from.length);
  await w.write(full(area) + to + rest, released(area, renamed(entry.data, from, to)));
  await w.remove(path);
}

/** The approval requests for secrets of the mount at `path`: their paths and data. */
async function requestsOf(w: BarrierWriter, path: string) {
  const out: { path: string; revision: number; data: ApprovalRequest }[] = [];
  for (const p of await w.listPaths(full(ROTATION.request))) {
    const entry = await w.read<ApprovalRequest>(p);
    if (entry?.data.secret.startsWith(path) === true) out.push({ path: p, ...entry });
  }
  return out;
}

/** The rotation ids the mount's secrets have (their run, job and history), for their rewrap progress. */
async function rotationIdsOf(w: BarrierWriter, path: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const p of await w.listPaths(full(ROTATION.history) + path)) {
    const name = p.slice(p.lastIndexOf('/') + 1); // `<start ms, 15 digits>-<rotation id>`
    ids.add(name.slice(16));
  }
  for (const area of [ROTATION.run, ROTATION.job]) {
    for (const p of await w.listPaths(full(area) + path)) {
      const entry = await w.read<{ id?: string; rotation_id?: string }>(p);
      const id = entry?.data.id ?? entry?.data.rotation_id;
      if (id !== undefined) ids.add(id);
    }
  }
  return ids;
}

/**
 * The rotation state of a mount's secrets follows the mount (as Vault's mount lifecycle):
 *
 * - remounted: policies, runs, history, background jobs and pending approval requests move to
 *   the new path (the policy keeps its `mount_uuid`: the mount keeps its uuid); a running run
 *   or job is released, to be taken up at the new name (its node's signal fires);
 * - disabled: all of it is removed, with the rewrap progress of its rotations; a run in
 *   progress ends with the mount (its node's signal fires and it saves nothing; the audit log
 *   keeps its steps).
 *
 * In the mount table's transaction (nothing half-moved), then once more after it for what a
 * writer admitted before the change wrote after it.
 *
 * @example
 * ```ts
 * const mounts = createMountTable(barrier, [rotationMountHooks()]);
 * await mounts.remount('teams/a/', 'teams/b/'); // sys/rotation/policy/teams/a/… → teams/b/…
 * ```
 */
export function rotationMountHooks(): MountDataHooks {
  return {
    async moved(w, mount, from, phase) {
      const to = mount.path;
      for (const area of AREAS) {
        // Nothing is mounted at `to`: what is kept there is left over (a mount disabled before
        // its rotation state went with it) and would pass for the moved mount's.
        if (phase === 'transaction')
          for (const p of await w.listPaths(full(area) + to)) await w.remove(p);
        for (const p of await w.listPaths(full(area) + from)) await moveEntry(w, area, p, from, to);
      }
      // A run that ended just before the move, whose history entry its node could no longer
      // append (appendHistory finds no run at the old name): recorded here.
      for (const p of await w.listPaths(full(ROTATION.run) + to)) {
        const run = (await w.read<RotationRun>(p))?.data;
        if (run === undefined || run.state === 'running') continue;
        const key = `${full(ROTATION.history)}${run.secret}/${historyName(run)}`;
        if ((await w.revision(key)) === undefined) await w.write(key, run);
      }
      for (const request of await requestsOf(w, from))
        await w.replace(request.path, renamed(request.data, from, to), request.revision);
    },
    async removed(w, mount) {
      const ids = await rotationIdsOf(w, mount.path);
      for (const area of AREAS)
        for (const p of await w.listPaths(full(area) + mount.path)) await w.remove(p);
      for (const request of await requestsOf(w, mount.path)) await w.remove(request.path);
      for (const id of ids) {
        const progress = full(ROTATION.rewrap) + id;
        if ((await w.revision(progress)) !== undefined) await w.remove(progress);
      }
    },
  };
}
