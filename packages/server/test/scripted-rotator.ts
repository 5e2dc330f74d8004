import { randomBytes } from 'node:crypto';
import { createRotationEngine, type RotationEngine } from '../src/rotation/rotation-engine.js';
import type { RotationEngineDeps } from '../src/rotation/rotation-engine-parts.js';
import { kvSecrets } from '../src/rotation/rotation-target.js';
import type {
  PendingContext,
  RetireContext,
  RotationContext,
  Rotator,
} from '../src/rotation/rotator.js';
import type { RunningServer } from '../src/server.js';

/** What the scripted rotator does for one secret's key: each step resolves unless scripted. */
export interface Script {
  create?(context: RotationContext): Promise<Record<string, unknown>>;
  set?(context: PendingContext): Promise<void>;
  test?(context: PendingContext): Promise<void>;
  finish?(context: PendingContext): Promise<void>;
  rollback?(context: PendingContext): Promise<void>;
  retire?(context: RetireContext): Promise<void>;
}

/**
 * A rotator named `name` whose steps each test scripts per KV key (`scripts.set(key, …)`); an
 * unscripted step succeeds, and create writes a random value.
 *
 * @example
 * ```ts
 * const { rotator, scripts } = scriptedRotator('scripted');
 * scripts.set('app/db', { test: async () => { throw new Error('refused'); } });
 * ```
 */
export function scriptedRotator(name: string): { rotator: Rotator; scripts: Map<string, Script> } {
  const scripts = new Map<string, Script>();
  const rotator: Rotator = {
    name,
    checkSettings: () => {},
    create: async (c) => {
      const script = scripts.get(c.secret.key);
      return script?.create === undefined
        ? { value: randomBytes(12).toString('hex') }
        : script.create(c);
    },
    set: async (c) => scripts.get(c.secret.key)?.set?.(c),
    test: async (c) => scripts.get(c.secret.key)?.test?.(c),
    finish: async (c) => scripts.get(c.secret.key)?.finish?.(c),
    rollback: async (c) => scripts.get(c.secret.key)?.rollback?.(c),
    retire: async (c) => scripts.get(c.secret.key)?.retire?.(c),
  };
  return { rotator, scripts };
}

/** Resolves once `signal` fired. */
export const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

/** Settles a promise into a value a test can look at later (no unhandled rejection). */
export const settle = <T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** A promise and the function that resolves it. */
export function signalled(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A step held until its signal fires (the node lost the run or stops), then failing as a step
 * stopped at its safe point does; `entered` resolves once it began.
 *
 * @example
 * ```ts
 * const held = heldStep();
 * scripts.set('app/db', { set: held.step });
 * await held.entered;
 * ```
 */
export function heldStep(): {
  step: (context: RotationContext) => Promise<void>;
  entered: Promise<void>;
} {
  const { promise: entered, resolve } = signalled();
  return {
    entered,
    step: async (context) => {
      resolve();
      await aborted(context.signal);
      throw context.signal.reason;
    },
  };
}

/**
 * An engine of its own (as another node has) on `server`'s storage, rotators and audit log;
 * `deps` replaces any of what it is given.
 *
 * @example
 * ```ts
 * const engine = engineOn(s.server, { clock: () => now, runLeaseMs: 60 });
 * ```
 */
export function engineOn(
  server: Pick<RunningServer, 'context'>,
  deps: Partial<RotationEngineDeps> = {},
): RotationEngine {
  const ctx = server.context;
  return createRotationEngine({
    store: ctx.rotation.store,
    secretOf: kvSecrets(ctx.mounts, ctx.kvMounts),
    rotators: ctx.rotation.rotators,
    audit: ctx.audit,
    clock: Date.now,
    ...deps,
  });
}
