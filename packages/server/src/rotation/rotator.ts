/**
 * The interface every rotator implements, built-in (`random`, `redis-acl`) or custom (a server
 * plugin file registers one with `registerRotator`). The engine (rotation-engine.ts) runs the
 * four steps in order, each under the rotation's id, persisting which step is next before it
 * runs it: after a crash the step that was running runs again, so **every method must be
 * idempotent** (running it twice with the same context does what running it once did).
 *
 * Values are KV data (`{ username, password }`, `{ value }`, …). A rotator must never put a
 * value into an error message: the engine scrubs the values it knows from messages, but a
 * rotator that echoes a target system's message may echo a derived form (a hash) the engine
 * cannot recognise. Report what failed, not with what.
 *
 * Every step's context carries a `signal` (`RotationContext.signal`): when it fires the node no
 * longer holds the run (or is stopping), and the step must stop at its next safe point; the
 * step runs again on the node that takes the run over.
 *
 * @example
 * ```ts
 * const uppercase: Rotator = {
 *   name: 'upper-token',
 *   checkSettings: () => {},
 *   create: async () => ({ value: randomBytes(16).toString('hex').toUpperCase() }),
 *   set: async () => {},
 *   test: async ({ pending }) => {
 *     if (typeof pending.value !== 'string') throw new Error('no value');
 *   },
 * };
 * rotators.register(uppercase); // the server's RotatorRegistry
 * ```
 */
export interface Rotator {
  /** The name policies give as `rotator` (lower-case letters, digits and `-`). */
  readonly name: string;
  /**
   * Checks a policy's `settings` when the policy is written; throws a `CustosError`
   * (`ERR_INVALID_REQUEST`) naming the setting that is wrong.
   */
  checkSettings(settings: Readonly<Record<string, unknown>>): void;
  /**
   * The rights a token must hold, besides writing the policy, to write a policy with these
   * settings: a rotation acts later with the server's rights (the scheduler), so what it
   * changes outside the secret (a transit key) is judged when the policy is written. Optional.
   */
  requiredRights?(
    settings: Readonly<Record<string, unknown>>,
  ): readonly { readonly path: string; readonly capability: 'update' | 'read' }[];
  /** Step 1: the pending value, from the current one (not yet applied anywhere). */
  create(context: RotationContext): Promise<Record<string, unknown>>;
  /** Step 2: applies the pending value to the target system, keeping the current one working. */
  set(context: PendingContext): Promise<void>;
  /** Step 3: proves the pending value works against the target system; throws if not. */
  test(context: PendingContext): Promise<void>;
  /**
   * Step 4, after the labels moved (pending is now current): anything the target needs once the
   * new value is in use. Optional.
   */
  finish?(context: PendingContext): Promise<void>;
  /**
   * After finish, in the background: long work once the new value is current (the
   * `transit-key` rewrap). The rotation's answer does not wait for it; it is recorded in storage
   * and held by one node at a time (a lease), taken over when that node dies, retried when it
   * fails, so it must be resumable and idempotent, and stop soon when `signal` aborts (the
   * node lost its claim or stops). The previous value is not retired before it has succeeded,
   * and the secret does not rotate again before then. Optional.
   */
  background?(context: BackgroundContext): Promise<void>;
  /** Undoes `set` after a failed set or test: the pending value must stop working. Optional. */
  rollback?(context: PendingContext): Promise<void>;
  /** When the grace period ends: the previous value must stop working. Optional. */
  retire?(context: RetireContext): Promise<void>;
  /**
   * For a dry run: checks the target can be reached and administered with what the policy
   * names, without changing it. Optional.
   */
  preflight?(context: RotationContext): Promise<void>;
}

/** What every step is given. */
export interface RotationContext {
  /** The rotation's id (a UUID): the same for every step and every retry of a step. */
  readonly rotationId: string;
  /** The secret being rotated. */
  readonly secret: { readonly mount: string; readonly key: string };
  /** The policy's settings for the rotator. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** The policy's grace period, in seconds: how long the replaced value keeps working. */
  readonly gracePeriodSeconds: number;
  /** The engine's clock (Unix ms). */
  readonly now: number;
  /** The data of the secret's `current` version (`{}` for a secret with none yet). */
  readonly current: Readonly<Record<string, unknown>>;
  /** Reads another secret of the same mount (admin credentials a policy names). */
  readSecret(key: string): Promise<Readonly<Record<string, unknown>> | undefined>;
  /**
   * Fires when this node must stop the step: it lost the run's lease (a renewal found the run
   * held by another node, or renewals failed until the lease ran out) or it seals or shuts
   * down. A step that does I/O stops at its next safe point (between statements, batches,
   * retries) and throws; the engine saves nothing of the run after it fired, and the node that
   * holds the run next runs the step again (so stopping half-way must leave it re-runnable).
   * Never fires for a dry run's `preflight` and `create`, or for `retire`.
   */
  readonly signal: AbortSignal;
}

/** What set, test, finish and rollback are given: also the pending value. */
export interface PendingContext extends RotationContext {
  readonly pending: Readonly<Record<string, unknown>>;
}

/**
 * What background is given: its `signal` fires when the node lost its claim on the job or
 * stops (the rewrap stops between batches).
 */
export interface BackgroundContext extends PendingContext {
  readonly signal: AbortSignal;
}

/** What retire is given: the value whose grace period ended. */
export interface RetireContext extends RotationContext {
  readonly previous: Readonly<Record<string, unknown>>;
}

/** The rotators a server knows: built-in ones and those registered. */
export class RotatorRegistry {
  readonly #rotators = new Map<string, Rotator>();

  /** Adds a rotator; a second with the same name is refused. */
  register(rotator: Rotator): void {
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(rotator.name))
      throw new Error('a rotator name is lower-case letters, digits and -');
    if (this.#rotators.has(rotator.name))
      throw new Error(`a rotator named ${rotator.name} is registered already`);
    this.#rotators.set(rotator.name, rotator);
  }

  /** The rotator named `name`, or undefined. */
  get(name: string): Rotator | undefined {
    return this.#rotators.get(name);
  }

  /** The names of every rotator, sorted. */
  names(): string[] {
    return [...this.#rotators.keys()].sort();
  }
}
