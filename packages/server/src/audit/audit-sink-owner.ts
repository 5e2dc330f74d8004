import { hostname } from 'node:os';
import type { BarrierWriter } from '../barrier/barrier.js';
import { isServerError, ServerError } from '../errors.js';

/** Who writes a sink's chain now: recorded at `sys/audit/owner/<sink>` and renewed as a lease. */
export interface SinkOwner {
  /** The broker instance (random per process and activation). */
  readonly id: string;
  readonly host: string;
  /** Where the sink writes (`file:<absolute path>`, `stdout`). */
  readonly destination: string;
  /** Unix milliseconds of the last renewal. */
  readonly renewedAt: number;
}

/** A lease not renewed for this long is taken as abandoned (the node crashed or was cut off). */
export const DEFAULT_OWNER_LEASE_MS = 30_000;

/**
 * Thrown when another node writes a sink of the same name to another destination: two
 * writers of one hash chain would interleave it and break it, so this node refuses the sink.
 *
 * @example
 * ```ts
 * throw new SinkNameClash('file', 'host b writes it to file:/var/log/custos/audit.log');
 * ```
 */
export class SinkNameClash extends ServerError {
  constructor(
    readonly sink: string,
    readonly reason: string,
  ) {
    super(
      'ERR_AUDIT_SINK_NAME_CLASH',
      `audit sink ${sink} refused: ${reason}. Give each node's sinks distinct names (the audit config's "name"), or stop the other node`,
    );
    this.name = 'SinkNameClash';
  }
}

/** Options for {@link SinkOwnership}. */
export interface SinkOwnershipOptions {
  readonly id: string;
  readonly leaseMs?: number;
  readonly clock?: () => number;
  /** The host name recorded (default: the machine's). */
  readonly host?: string;
}

/**
 * The per-sink owner record. A node claims a sink when it opens it: free, its own, one the same
 * host writes to the same destination (a restart after a crash), or one whose lease ran out. A
 * sink held by a live node writing elsewhere is a {@link SinkNameClash}. The owner renews the
 * lease while it writes, finds out when another node took the sink over, and releases it when
 * it closes the sink.
 *
 * @example
 * ```ts
 * const owners = new SinkOwnership(barrier, { id: randomUUID() });
 * await owners.claim('file', 'file:/var/log/custos/audit.log');
 * ```
 */
export class SinkOwnership {
  readonly #barrier: BarrierWriter;
  readonly #prefix: string;
  readonly #id: string;
  readonly #host: string;
  readonly #clock: () => number;
  readonly leaseMs: number;

  constructor(barrier: BarrierWriter, prefix: string, options: SinkOwnershipOptions) {
    this.#barrier = barrier;
    this.#prefix = prefix;
    this.#id = options.id;
    this.#host = options.host ?? hostname();
    this.#clock = options.clock ?? Date.now;
    this.leaseMs = options.leaseMs ?? DEFAULT_OWNER_LEASE_MS;
  }

  /** Records this node as the sink's owner, or throws {@link SinkNameClash}. */
  async claim(sink: string, destination: string): Promise<void> {
    const path = this.#prefix + sink;
    const mine = (): SinkOwner => ({
      id: this.#id,
      host: this.#host,
      destination,
      renewedAt: this.#clock(),
    });
    // Two attempts: a concurrent claim is settled by the storage revision, then judged again.
    for (let attempt = 0; ; attempt++) {
      const stored = await this.#barrier.read<SinkOwner>(path);
      try {
        if (stored === undefined) {
          await this.#barrier.create(path, mine());
          return;
        }
        const held = this.#heldElsewhere(stored.data, destination);
        if (held !== undefined) throw new SinkNameClash(sink, held);
        await this.#barrier.replace(path, mine(), stored.revision);
        return;
      } catch (err) {
        if (!isServerError(err, 'ERR_VERSION_CONFLICT') || attempt >= 1) throw err;
      }
    }
  }

  /**
   * Renews the lease. Throws {@link SinkNameClash} when another node holds the sink now (it
   * took over a lease this node failed to renew, or removed the record).
   */
  async renew(sink: string, destination: string): Promise<void> {
    const path = this.#prefix + sink;
    const stored = await this.#barrier.read<SinkOwner>(path);
    if (stored === undefined || stored.data.id !== this.#id) {
      throw new SinkNameClash(
        sink,
        stored === undefined
          ? 'its owner record is gone (removed while this node wrote to it)'
          : `node ${stored.data.host} took it over, writing to ${stored.data.destination}`,
      );
    }
    await this.#barrier.replace(
      path,
      { ...stored.data, destination, renewedAt: this.#clock() },
      stored.revision,
    );
  }

  /** Removes the record when it is this node's (on close): another node may then claim it. */
  async release(sink: string): Promise<void> {
    const path = this.#prefix + sink;
    const stored = await this.#barrier.read<SinkOwner>(path);
    if (stored?.data.id === this.#id) await this.#barrier.remove(path);
  }

  /** Why `owner` keeps this node from the sink, or undefined when it may take it. */
  #heldElsewhere(owner: SinkOwner, destination: string): string | undefined {
    if (owner.id === this.#id) return undefined;
    // The same file on the same host: this node's earlier run (a restart after a crash).
    if (owner.host === this.#host && owner.destination === destination) return undefined;
    const age = this.#clock() - owner.renewedAt;
    if (age >= this.leaseMs) return undefined;
    return `node ${owner.host} writes a sink of this name to ${owner.destination} (lease renewed ${Math.max(0, Math.round(age / 1000))} s ago), this node to ${destination}`;
  }
}
